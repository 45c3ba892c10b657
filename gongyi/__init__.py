"""gongyi: the platform's shared kernel (config, events, storage adapters, HTTP, CLI)."""

import warnings

# eventlet warns on import that it is in maintenance mode; nameko 2.x is built on it, knowingly
warnings.filterwarnings("ignore", message="\nEventlet is deprecated")
