"""Several serving processes on one machine: ``switchboard serve --workers N`` (issue 14).

Below every edge: the parent that runs the workers (``supervisor``), what each worker is
told about itself (``spec``), the datagrams the workers pass each other (``frames``) over
socket pairs the parent made (``relay``), and picking a port all of them can share
(``ports``). Nothing here knows SIP, HTTP or the store; the edges and ``app.py`` say what
travels. The design is in docs/workers.md.
"""
