"""Model files: the library on this device and the synthetic models Hearth writes."""
