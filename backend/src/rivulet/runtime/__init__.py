"""The async runtime: executes a ``CompiledGraph`` and streams ``rivulet.events/v1`` events.

Key contracts: ``bus.EventBus`` (publish, replay + live subscribe), ``executor.Executor`` (ready-set scheduler),
``service.RunService`` (runs from stored flows). The events it emits and the run records it produces live in the
leaf ``rivulet.records`` that storage imports too. Submodules are imported explicitly; this package imports nothing
eagerly.
"""
