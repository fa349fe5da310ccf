"""The simulated Stripe: a Django app of its own (label ``stripe_sim``), for the demo and the tests.

``gateway.SimulatedGateway`` is the gateway (``STRIPE_GATEWAY = "simulated"``); ``models`` keeps
its objects, ``views`` and ``urls`` the stand-ins for Stripe's hosted pages.
"""
