"""yiwang (一网): an open digital government platform."""
