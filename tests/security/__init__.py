"""Security tests: every role against every service action, sign-in and sessions, the public view, attacks through
the register's inputs."""
