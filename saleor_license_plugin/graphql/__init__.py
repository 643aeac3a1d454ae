"""The plugin's own GraphQL schema (graphene 2), shaped like Saleor's: Relay ids and
connections, ``errors { field code message }``, money as ``{ amount currency }``."""
