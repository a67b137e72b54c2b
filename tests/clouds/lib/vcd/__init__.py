"""The strict VMware Cloud Director emulator of tests/clouds/vcd-emulator.

Specification: /work/shared/ref/vcd-api.md §10 (fixture model, protocol rules, upload state
machine, transfer rules, fault knobs), §13, Appendix A; disk checks: formats.md §3.5.
Standard library only (Debian's /usr/bin/python3); qemu-img for disk checks and export.
"""
