"""The padrón service: identifying citizens against the municipal register and issuing
certificates of registration that anyone can verify by their CSV code.

A ``source`` reads the padrón (the hub's own tables or the council's REST service);
``identification`` runs attempts, limits and one-time codes (DNI/NIE and dates are checked by
``contract.identity``); ``issuing`` renders (``certificate``) and stores certificates;
``verification`` answers the public verification page; ``service`` puts them together for the
routes, ``hub.routes.padron`` and ``hub.routes.verify``.
"""
