"""Models shared by several tests: TOML sections (each test adds its [integrate]) and built
models covering every feature of the drift."""

from overlapdyn.model import Model, Protocol, Student, Target

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

# one model per drift feature: committees, noise, a staircase, spherical SGD, the
# correlation loss, a trained readout with weight decay
STAIRCASE = "z1 + z1*z2 + z1*z2*z3"

MODELS = {
    "He2 committee p=k=2": Model(Target(k=2, activation="He2"), Student(p=2, activation="He2"),
                                 Protocol(eta=0.3)),
    "He3 committee p=k=2": Model(Target(k=2, activation="He3"), Student(p=2, activation="He3"),
                                 Protocol(eta=0.3)),
    "He4 committee p=4 k=2": Model(Target(k=2, activation="He4"),
                                   Student(p=4, activation="He4"), Protocol(eta=0.3)),
    "He3 committee p=4 k=2, noise": Model(Target(k=2, activation="He3", noise=0.3),
                                          Student(p=4, activation="He3"), Protocol(eta=0.3)),
    "staircase p=4": Model(Target(k=3, expression=STAIRCASE), Student(p=4, activation="He2"),
                           Protocol(eta=0.2, n_b=4)),
    "spherical He3 single index": Model(Target(k=1, activation="He3"),
                                        Student(p=1, activation="He3", c_p=1.0),
                                        Protocol(eta=0.1, spherical=True)),
    "correlation loss He2, n_b=8": Model(Target(k=2, activation="He2"),
                                         Student(p=2, activation="He2"),
                                         Protocol(eta=0.5, n_b=8, loss="correlation")),
    "trained readout + weight decay": Model(
        Target(k=2, expression="He2(z1)*He1(z2) + z2", noise=0.1),
        Student(p=3, activation="He2", a=[1.0, -0.5, 0.3], train_readout=True, eta_a=0.4),
        Protocol(eta=0.2, weight_decay=0.05)),
}
