"""No models: the app only keeps the application's database role up to date (roles.py).

post_migrate is only sent to apps that have a models module."""
