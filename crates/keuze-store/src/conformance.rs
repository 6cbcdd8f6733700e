//! The story suite every backend must pass. TODO(store): fill in.
