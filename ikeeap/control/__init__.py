"""The local control channel: a sans-I/O line protocol, SA views, tables, and a client.

The Twisted listener is ``ikeeap.server.control``; the ``ikeeap status|list-sas|terminate|
reload`` commands use :mod:`ikeeap.control.client`.
"""
