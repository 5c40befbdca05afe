"""Database helpers of the project: the only place with hand-built SQL (`bulk`)."""
