"""Small plugin modules for the plugin-host tests."""
