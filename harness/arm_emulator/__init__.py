"""A local Azure Resource Manager that the real Azure SDK management clients can provision against.

The emulator is an HTTPS server (self-signed CA, loopback only) that stores resources by id, answers with ARM's
status codes, long-running-operation headers and error bodies, accepts only the api-versions the installed SDKs
send, checks request bodies the way the resource providers do, runs container groups as Docker containers on their
own loopback address, and lets a test inject ARM faults. Run it in-process through `harness.pytest_plugin.arm_emulator`
or standalone with `python -m harness.arm_emulator --port 8443`.
"""
