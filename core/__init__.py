"""What every app may import: request parsing at the edge, exports, small shared tools.

`core` sits below `tenants` in the import layers and imports no app of the project.
"""
