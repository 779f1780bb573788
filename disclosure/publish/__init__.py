"""Publishing: verify a built site, copy it to a release, switch atomically, roll back."""
