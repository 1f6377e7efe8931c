"""The cabin's touchscreen app: citizen flows, the call to an agent, the link to the hub."""
