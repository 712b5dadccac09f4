"""The flow compiler: canvas documents in, frozen ``CompiledGraph`` out."""
