"""Model sections shared by the tests that write TOML configs (each adds its [integrate])."""

SAAD_SOLLA_TOML = """
[target]
k = 2
activation = "erf"
c_k = 1.0
[student]
p = 2
activation = "erf"
c_p = 1.0
[protocol]
eta = 0.5
"""
