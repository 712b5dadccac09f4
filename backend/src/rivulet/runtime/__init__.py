"""The async runtime: executes a ``CompiledGraph`` and streams ``rivulet.events/v1`` events.

Key contracts: ``events.Event`` (the tagged union every client sees), ``bus.EventBus`` (publish, replay +
live subscribe), ``executor.Executor`` (ready-set scheduler), ``service.RunService`` (runs from stored flows).
Submodules are imported explicitly; this package imports nothing eagerly (storage depends on ``events``).
"""
