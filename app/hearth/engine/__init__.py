"""Running models: the supervised engine process and its llama.cpp runtime."""
