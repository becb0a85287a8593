"""The suite's pytest setup: the plugin of comparisons.testing (the seeded `rng` fixture;
installed, the package registers it through its pytest11 entry point under the same name)."""

pytest_plugins = ["comparisons.testing"]
