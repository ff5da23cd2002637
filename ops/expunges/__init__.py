"""Expunge requests in the platform admin (issue 13): a customer asks for their agency's data
to be expunged; one operator records the request, a second one approves it by typing the
agency's slug; the worker runs the expunge (ops/expunge.py) as the tables' owner and the page
shows its progress. Status changes in ``services``, reads in ``access``, pages in ``views``."""
