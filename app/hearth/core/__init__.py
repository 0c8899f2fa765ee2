"""Pure logic: no networking, no Qt, no subprocesses. Tested with plain pytest."""
