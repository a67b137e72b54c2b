"""The Nova emulator of tests/clouds (nova-emulator): compute API v2.1 subset, one module per
concern: httpbase (HTTP plumbing, JSON replies, Nova errors, microversions), keystone (token
validation against the real Keystone), model (servers, flavors), servers, flavors, snapshot
(createImage into the real Glance), knobs, control (/__emulator), composed in server."""
