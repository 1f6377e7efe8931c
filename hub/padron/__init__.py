"""The padrón service: identifying citizens against the municipal register and issuing
certificates of registration that anyone can verify by their CSV code.

``identity`` checks DNI/NIE and dates; a ``source`` reads the padrón (the hub's own tables or
the council's REST service); ``identification`` runs attempts, limits and one-time codes;
``issuing`` renders (``certificate``) and stores certificates; ``verification`` answers the
public verification page. The routes are ``hub.routes.padron`` and ``hub.routes.verify``.
"""
