# A first job: where it ran and with what.
import platform
import sys

print(f"hello from {platform.node()}, python {sys.version.split()[0]}")
print("arguments:", sys.argv[1:])
