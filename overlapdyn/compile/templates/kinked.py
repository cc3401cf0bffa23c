r"""Template: Gaussian expectations of kinked, piecewise-linear activations.

The kernels of an activation in the span of ``1, x, relu(x), H(x)`` (relu, |x|, leaky relu,
linear, and as a teacher also sign and the step H) are sums of expectations of products of
*basis functions*, coded as integers:

====  =========  ==================  ====  ===========  ======================
code  function   derivative          code  function     derivative
====  =========  ==================  ====  ===========  ======================
ONE   1          0                   D     δ(x)         —
X     x          1                   S     x² H(x)      2 relu(x)
R     relu(x)    H(x)                XX    x²           2x
H     H(x)       δ(x)
====  =========  ==================  ====  ===========  ======================

For fields x ~ N(0, C) the expectations are closed forms up to three fields:

* one field (``moment1``): E[relu] = √(c/2π), E[H] = ½, E[δ] = φ_c(0) = 1/√(2πc), …;
* two fields (``moment2``): a δ conditions on its field (E[δ(x_a) f(x_b)] = φ(0) E[f | x_a
  = 0]); an x is removed by Stein's lemma (E[x_a f(x_b)] = c_ab E[f'(x_b)]); what remains
  are the arc-cosine kernels of Cho & Saul (2009), with ρ = c_ab/√(c_aa c_bb) and
  θ = arccos ρ: E[H H] = (π − θ)/2π, E[relu relu] = (√(c_aa c_bb − c_ab²) + c_ab(π − θ))/2π,
  E[relu(x_a) H(x_b)] = (√c_aa + c_ab/√c_bb)/(2√(2π));
* three fields (``moment3``): the same reductions, the trivariate orthant probability
  P(x > 0) = 1/8 + (asin ρ_12 + asin ρ_13 + asin ρ_23)/4π and its first moment
  E[x_c 1{x > 0}] = Σ_m c_cm φ_m(0) P(the other two > 0 | x_m = 0);
* three fields of total degree two (``closed3``: E[H H relu relu], E[H H x² H], …): Stein's
  lemma on a field b(x) = x g(x) leaves expectations of degree one, or with a δ.

The drift calls the four-field kernel I4(λ_j, λ_l, λ_m, λ_n) with repeated indices most of
the time (j = l, m = n, m = j, …). Fields that coincide exactly (x_m = λ x_f, λ > 0) are
one field carrying the product of their basis functions (b(λx) = λ^degree b(x), H H = H,
H relu = relu, relu relu = S, …), and x4 = −λ x3 becomes one field through X(−x) = −X(x),
R(−x) = R(x) − X(x), H(−x) = 1 − H(x); at most three fields are then left, in closed form
(``_fewer_fields``, ``_opposite_pair``).

Four distinct indicator fields have no elementary closed form (the orthant probability of four
fields is not elementary), so ``kinked4`` — E[b1(x1) b2(x2) b3(x3) b4(x4)] with b1, b2 the
derivative factors — interpolates the covariance, Price's theorem giving the derivative:
with C_t = t C + (1 − t) C_0, where C_0 keeps the blocks of (x1, x2)'s diagonal and of
(x3, x4) and zeroes the rest,

    F(C) = F(C_0) + ∫_0^1 Σ_{pairs (i, j) deformed} c_ij E_{C_t}[∂_i ∂_j (b1 b2 b3 b4)] dt.

F(C_0) = E[b1] E[b2] E[b3 b4] factorises, and every derivative carries a δ from b1 or b2,
which conditions on its field and leaves a closed form of three fields or fewer. C_t is
non-singular for t < 1 whenever the (x3, x4) block is (coincident x3 ≡ ±x4 never get here),
so the integrand is evaluated only where every formula is well defined;
the endpoint t = 1, where coincident fields make C singular, gets square-root behaviour,
removed by the substitutions below:

* the (1, 2) term, c_12 φ(0, 0; C_t) g(t) with φ ∝ 1/√(c_11 c_22 − t² c_12²), becomes
  (1/2π) ∫_0^{asin ρ_12} g(sin ψ/ρ_12) dψ, written ψ = asin ρ_12 (1 − s²) (1 − t is
  linear in asin ρ_12 − ψ for |ρ_12| < 1), or ψ = asin ρ_12 (1 − s) for x1 ≡ −x2;
* the cross terms use t = 1 − s², so that √(1 − t) = s.

Fields that *nearly* coincide (1 − ρ² small, not zero) put the square roots' branch points
just off the end s = 0, at a distance ~√(1 − ρ²); a graded rule — Gauss–Legendre
(``NODES``, ``WEIGHTS`` on [0, 1], set by the renderer) on [2^-(k+1), 2^-k] for k below a
level fixed by the smallest such scale, and on [0, 2^-levels] — integrates those to the
same accuracy as the rest. The rule depends on C only through that level (a whole number),
so the result is smooth in C between level changes, which move it by less than the rule's
error; nothing moves across a kink as C changes, unlike cubature in x.
"""

import math

import numpy as np
from numba import njit

from generated import LOOP

# ------------------------------------------------------------------------ rendered from here
ONE = 0
X = 1
R = 2
H = 3
D = 4
S = 5
XX = 6
NODES = np.empty(0)
WEIGHTS = np.empty(0)
# |ρ_34| above 1 − COINCIDENT: x3 and x4 are one field (rounding of an exact coincidence)
COINCIDENT = 1e-12
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit(**LOOP)
def _correlation(saa, sab, sbb):
    # a field of no variance (a conditioned field at a node next to the singular end of an
    # interpolation, where rounding leaves nothing) has no correlation to speak of
    # (√(c c) is c exactly in IEEE arithmetic, so coincident fields get ρ = ±1 exactly)
    scale = math.sqrt(saa * sbb) if saa > 0.0 and sbb > 0.0 else 0.0
    if not scale > 0.0:  # (also where the product underflows)
        return 0.0
    return min(1.0, max(-1.0, sab / scale))


@njit(**LOOP)
def derivative(code):
    # (factor, code) of the basis function's derivative; (0, ONE) for a constant
    if code == X:
        return 1.0, ONE
    if code == R:
        return 1.0, H
    if code == H:
        return 1.0, D
    if code == S:
        return 2.0, R
    if code == XX:
        return 2.0, X
    return 0.0, ONE


@njit(**LOOP)
def moment1(code, s):
    # E[b(x)] for x ~ N(0, s)
    if code == ONE:
        return 1.0
    if code == R:
        return math.sqrt(s) * INV_SQRT_2PI
    if code == H:
        return 0.5
    if code == D:  # (0 where rounding leaves no variance: nodes of vanishing weight)
        return INV_SQRT_2PI / math.sqrt(s) if s > 0.0 else 0.0
    if code == S:
        return 0.5 * s
    if code == XX:
        return s
    return 0.0  # X


@njit(**LOOP)
def moment2(a, b, saa, sab, sbb):
    # E[a(x_a) b(x_b)] for (x_a, x_b) ~ N(0, [[saa, sab], [sab, sbb]])
    if a == ONE:
        return moment1(b, sbb)
    if b == ONE:
        return moment1(a, saa)
    if b == D or (b == X and a != D):
        a, b, saa, sbb = b, a, sbb, saa
    if a == D:  # condition on x_a = 0: x_b keeps mean 0
        if not saa > 0.0:
            return 0.0
        return INV_SQRT_2PI / math.sqrt(saa) * moment1(b, max(sbb - sab * sab / saa, 0.0))
    if a == X:  # Stein's lemma
        factor, db = derivative(b)
        return sab * factor * moment1(db, sbb)
    r = _correlation(saa, sab, sbb)
    if a == H and b == H:
        return 0.25 + math.asin(r) / (2.0 * math.pi)
    if a == R and b == R:
        return (math.sqrt(max(saa * sbb - sab * sab, 0.0))
                + sab * (math.pi - math.acos(r))) / (2.0 * math.pi)
    if a == H:
        a, b, saa, sbb = b, a, sbb, saa
    if a == R and b == H:  # (√c_aa + c_ab/√c_bb)/(2√(2π)) = √c_aa (1 + ρ)/(2√(2π))
        return math.sqrt(max(saa, 0.0)) * (1.0 + r) * 0.5 * INV_SQRT_2PI
    raise ValueError("moment2: a product of basis functions without a closed form")


@njit(**LOOP)
def _given(s11, s12, s13, s22, s23, s33, m):
    # the covariance of the two fields other than m given x_m = 0, and φ_m(0)
    if not (s11, s22, s33)[m] > 0.0:
        return 1.0, 0.0, 1.0, 0.0
    if m == 0:
        return (s22 - s12 * s12 / s11, s23 - s12 * s13 / s11, s33 - s13 * s13 / s11,
                INV_SQRT_2PI / math.sqrt(s11))
    if m == 1:
        return (s11 - s12 * s12 / s22, s13 - s12 * s23 / s22, s33 - s23 * s23 / s22,
                INV_SQRT_2PI / math.sqrt(s22))
    return (s11 - s13 * s13 / s33, s12 - s13 * s23 / s33, s22 - s23 * s23 / s33,
            INV_SQRT_2PI / math.sqrt(s33))


@njit(**LOOP)
def moment3(a, b, c, s11, s12, s13, s22, s23, s33):
    # E[a(x1) b(x2) c(x3)]: a ∈ {ONE, H}, b ∈ {ONE, H, D}, c ∈ {ONE, X, R, H}
    if a == ONE:
        return moment2(b, c, s22, s23, s33)
    if b == ONE:
        return moment2(a, c, s11, s13, s33)
    if c == ONE:
        return moment2(a, b, s11, s12, s22)
    if b == D:
        u11, u13, u33, density = _given(s11, s12, s13, s22, s23, s33, 1)
        return density * moment2(a, c, u11, u13, u33)
    # a = b = H
    if c == X:  # Stein's lemma on x3
        return s13 * moment2(D, H, s11, s12, s22) + s23 * moment2(H, D, s11, s12, s22)
    if c == H:
        return 0.125 + (math.asin(_correlation(s11, s12, s22))
                        + math.asin(_correlation(s11, s13, s33))
                        + math.asin(_correlation(s22, s23, s33))) / (4.0 * math.pi)
    if c == R:  # E[x3 1{x > 0}] = Σ_m s_3m φ_m(0) P(the other two > 0 | x_m = 0)
        total = 0.0
        for m, s3m in ((0, s13), (1, s23), (2, s33)):
            v11, v12, v22, density = _given(s11, s12, s13, s22, s23, s33, m)
            total += s3m * density * moment2(H, H, v11, v12, v22)
        return total
    raise ValueError("moment3: a product of basis functions without a closed form")


@njit(**LOOP)
def stein3(a, c, c11, c12, c13, c22, c23, c33):
    # E[a(x1) x2 c(x3)] = c12 E[a'(x1) c(x3)] + c23 E[a(x1) c'(x3)] (Stein's lemma on x2)
    fa, da = derivative(a)
    fc, dc = derivative(c)
    total = 0.0
    if fa != 0.0:
        total += c12 * fa * moment2(da, c, c11, c13, c33)
    if fc != 0.0:
        total += c23 * fc * moment2(a, dc, c11, c13, c33)
    return total


@njit(**LOOP)
def _levels(correlations):
    # levels of the graded rule: down to the smallest scale √(1 − ρ²) of a pair that nearly
    # coincides (an exact coincidence, 1 − ρ² at rounding level, needs none)
    scale = 1.0
    for r in correlations:
        gap = 1.0 - r * r
        if gap > 1e-14:
            scale = min(scale, math.sqrt(gap))
    return min(24, max(1, int(math.ceil(-math.log2(scale))) + 2))


@njit(**LOOP)
def _graded(q, levels):
    # node q of the graded rule on (0, 1], refined towards 0: Gauss–Legendre (NODES,
    # WEIGHTS) on [2^-(k+1), 2^-k], k < levels, and on [0, 2^-levels]
    n = NODES.shape[0]
    k = q // n
    high = 0.5 ** k
    low = 0.5 * high if k < levels else 0.0
    return low + (high - low) * NODES[q % n], (high - low) * WEIGHTS[q % n]


@njit(**LOOP)
def _angle_power(r12):
    # 1 − t is linear in asin ρ12 − ψ for |ρ12| < 1 (square roots of it want ψ = ψ_end
    # (1 − s²)) and quadratic for x1 ≡ −x2 (ψ = ψ_end (1 − s) then)
    return 1 if 1.0 - r12 * r12 <= 1e-14 else 2


@njit(**LOOP)
def _angle_point(s, power, psi_end, r12, c11, c22):
    # the (1, 2) term at node s: ψ = ψ_end (1 − s^power), t = sin ψ / ρ12, det(A_t) =
    # c11 c22 cos²ψ, and the measure dψ/2π per unit of s
    psi = psi_end * (1.0 - s ** power)
    measure = power * s ** (power - 1) * psi_end / (2.0 * math.pi)
    return math.sin(psi) / r12, c11 * c22 * math.cos(psi) ** 2, measure


@njit(**LOOP)
def _degree(code):
    # b(λx) = λ^degree b(x) for λ > 0
    if code in (X, R):
        return 1
    if code in (S, XX):
        return 2
    return 0


@njit(**LOOP)
def _product(a, b):
    # the code of a(x) b(x), or −1 where that is no basis function (degree above 2)
    if a == ONE:
        return b
    if b == ONE:
        return a
    if a > b:
        a, b = b, a
    if a == X:
        return XX if b == X else (S if b == R else (R if b == H else -1))
    if a == R:
        return S if b == R else (R if b == H else -1)
    if a == H and b in (H, S, XX):
        return H if b == H else S
    return -1


@njit(**LOOP)
def _split(code):
    # b(x) = x g(x): (g, g') for X, R, S, XX, with −1 for g' = 0
    if code == X:
        return ONE, -1
    if code == R:
        return H, D
    if code == S:
        return R, H
    return X, ONE  # XX


@njit(**LOOP)
def _given_zero(C, f, a, b, code_a, code_b):
    # E[δ(x_f) A(x_a) B(x_b)] = φ_f(0) E[A B | x_f = 0]
    cff = C[f, f]
    if not cff > 0.0:
        return 0.0
    return INV_SQRT_2PI / math.sqrt(cff) * moment2(
        code_a, code_b, max(C[a, a] - C[f, a] * C[f, a] / cff, 0.0),
        C[a, b] - C[f, a] * C[f, b] / cff, max(C[b, b] - C[f, b] * C[f, b] / cff, 0.0))


@njit(**LOOP)
def _linear3(a, b, c, C, i, j, k):
    # E[a(x_i) b(x_j) c(x_k)], codes in {ONE, X, R, H} of total degree ≤ 1
    if a == ONE:
        return moment2(b, c, C[j, j], C[j, k], C[k, k])
    if b == ONE:
        return moment2(a, c, C[i, i], C[i, k], C[k, k])
    if c == ONE:
        return moment2(a, b, C[i, i], C[i, j], C[j, j])
    if a != H:  # the field of degree 1 (if any) last
        a, c, i, k = c, a, k, i
    elif b != H:
        b, c, j, k = c, b, k, j
    return moment3(H, H, c, C[i, i], C[i, j], C[i, k], C[j, j], C[j, k], C[k, k])


@njit(**LOOP)
def closed3(a, b, c, C, i, j, k):
    """E[a(x_i) b(x_j) c(x_k)] for x ~ N(0, C), codes in {ONE, X, R, H, S, XX} of total
    degree ≤ 2: Stein's lemma on the field of highest degree, a(x) = x g(x), gives
    C_ii E[g'(x_i) b c] + Σ_m C_im E[g(x_i) ∂_m(b c)], expectations of degree ≤ 1 or with
    a δ, which conditions on its field."""
    if _degree(a) + _degree(b) + _degree(c) <= 1:
        return _linear3(a, b, c, C, i, j, k)
    if _degree(b) > _degree(a) and _degree(b) >= _degree(c):
        a, b, i, j = b, a, j, i
    elif _degree(c) > _degree(a):
        a, c, i, k = c, a, k, i
    g, dg = _split(a)
    total = 0.0
    if dg == D:
        total += C[i, i] * _given_zero(C, i, j, k, b, c)
    elif dg >= 0:
        total += C[i, i] * _linear3(dg, b, c, C, i, j, k)
    for m, code, n, rest in ((j, b, k, c), (k, c, j, b)):
        factor, dcode = derivative(code)
        if factor == 0.0:
            continue
        if dcode == D:
            total += C[i, m] * factor * _given_zero(C, m, i, n, g, rest)
        else:
            total += C[i, m] * factor * _linear3(g, dcode, rest, C, i, m, n)
    return total


@njit(**LOOP)
def _covariance4(c11, c12, c13, c14, c22, c23, c24, c33, c34, c44):
    return np.array([[c11, c12, c13, c14], [c12, c22, c23, c24], [c13, c23, c33, c34],
                     [c14, c24, c34, c44]])


@njit(**LOOP)
def _fewer_fields(codes, C):
    """(True, E[Π_f codes_f(x_f)]) in closed form where constant factors and fields that
    coincide exactly — x_m = λ x_f, λ > 0, as the drift's I4(λ_j, λ_l, λ_m, λ_n) has for
    repeated indices — leave at most three fields: coincident fields merge into one, the
    product of their basis functions, b(λx) = λ^degree b(x). (False, 0) where four remain
    (codes is left merged)."""
    scale = 1.0
    for f in range(4):
        for m in range(f + 1, 4):
            if codes[f] == ONE or codes[m] == ONE:
                continue
            if _correlation(C[f, f], C[f, m], C[m, m]) < 1.0 - COINCIDENT:
                continue
            product = _product(codes[f], codes[m])
            if product < 0:
                continue
            scale *= math.sqrt(C[m, m] / C[f, f]) ** _degree(codes[m])
            codes[f], codes[m] = product, ONE
    slots = np.zeros(3, np.int64)  # the fields left, and their codes (ONE: no field)
    kept = np.full(3, ONE)
    n = 0
    for f in range(4):
        if codes[f] != ONE:
            if n == 3:
                return False, 0.0
            slots[n], kept[n] = f, codes[f]
            n += 1
    return True, scale * closed3(kept[0], kept[1], kept[2], C, slots[0], slots[1], slots[2])


@njit(**LOOP)
def _opposite_pair(codes, C):
    # x4 = −λ x3, λ = √(c44/c33): b4(x4) = λ^degree b4(−x3), and X(−x) = −X(x),
    # R(−x) = R(x) − X(x), H(−x) = 1 − H(x) almost surely (codes: b1 … b4)
    reflected = ((-1.0, X, X), (1.0, R, R), (-1.0, R, X), (1.0, H, ONE), (-1.0, H, H))
    total = 0.0
    for sign, b4, code in reflected:
        if b4 == codes[3]:
            terms = np.array([codes[0], codes[1], _product(codes[2], code), ONE])
            total += sign * _fewer_fields(terms, C)[1]
    return math.sqrt(C[3, 3] / C[2, 2]) ** _degree(codes[3]) * total


@njit(**LOOP)
def _cross(b_other, b_m, b_n, c_ii, c_io, c_im, c_in, c_oo, c_om, c_on, c_mm, c_mn, c_nn, t):
    # E[b_other b_m' b_n | x_i = 0] under C_t, for the pair (i, m) of the interpolation;
    # o is the other derivative field, n the other activation field
    factor, dm = derivative(b_m)
    if factor == 0.0:
        return 0.0
    e_io, e_im, e_in = t * c_io, t * c_im, t * c_in
    e_om, e_on = t * c_om, t * c_on
    return factor * INV_SQRT_2PI / math.sqrt(c_ii) * moment3(
        b_other, dm, b_n,
        c_oo - e_io * e_io / c_ii, e_om - e_io * e_im / c_ii, e_on - e_io * e_in / c_ii,
        c_mm - e_im * e_im / c_ii, c_mn - e_im * e_in / c_ii, c_nn - e_in * e_in / c_ii)


@njit(**LOOP)
def _relu_cross(c_ii, c_io, c_i3, c_i4, c_oo, c_o3, c_o4, c33, c34, c44, t):
    # both cross terms of the pairs (i, 3), (i, 4) for (H, H, R, R), at once: given x_i = 0
    # (covariance V of (x_o, x3, x4) under C_t), c_i3 E[H_o H_3 relu_4] + c_i4 E[H_o relu_3
    # H_4], where E[H H x_n 1{…}] = Σ_m V_nm w_m with the same three weights w_m = φ_m(0)
    # P(the other two > 0 | x_m = 0) (moment3) for both
    e_io, e_i3, e_i4 = t * c_io, t * c_i3, t * c_i4
    v_oo, v_o3, v_o4 = c_oo - e_io * e_io / c_ii, t * c_o3 - e_io * e_i3 / c_ii, \
        t * c_o4 - e_io * e_i4 / c_ii
    v33, v34, v44 = c33 - e_i3 * e_i3 / c_ii, c34 - e_i3 * e_i4 / c_ii, c44 - e_i4 * e_i4 / c_ii
    total = 0.0
    for m, v3m, v4m in ((0, v_o3, v_o4), (1, v33, v34), (2, v34, v44)):
        u11, u12, u22, density = _given(v_oo, v_o3, v_o4, v33, v34, v44, m)
        total += (c_i3 * v4m + c_i4 * v3m) * density * moment2(H, H, u11, u12, u22)
    return INV_SQRT_2PI / math.sqrt(c_ii) * total


@njit(**LOOP)
def kinked4(b1, b2, b3, b4, c11, c12, c13, c14, c22, c23, c24, c33, c34, c44):
    # E[b1(x1) b2(x2) b3(x3) b4(x4)], b1, b2 ∈ {ONE, H}, b3, b4 ∈ {ONE, X, R, H}
    if b1 == ONE and b2 == ONE:
        return moment2(b3, b4, c33, c34, c44)
    # (codes in an array: the closed forms are compiled once, not for each literal code)
    codes = np.array([b1, b2, b3, b4])
    C = _covariance4(c11, c12, c13, c14, c22, c23, c24, c33, c34, c44)
    # an opposite pair first: merged with other coincidences into three fields it would
    # leave closed3 a singular pair, whose √(1 − ρ²) turns rounding into 1e-9 errors
    if c34 < 0.0 and -c34 / math.sqrt(c33 * c44) > 1.0 - COINCIDENT:
        return _opposite_pair(codes, C)
    done, value = _fewer_fields(codes.copy(), C)
    if done:
        return value
    total = moment1(b1, c11) * moment1(b2, c22) * moment2(b3, b4, c33, c34, c44)
    both = b1 == H and b2 == H
    r12 = _correlation(c11, c12, c22)
    # (x3, x4) keep their covariance along the interpolation: their near-coincidence makes
    # no feature in t, so only the deformed pairs set the rule's depth
    levels = _levels((r12, _correlation(c11, c13, c33), _correlation(c11, c14, c44),
                      _correlation(c22, c23, c33), _correlation(c22, c24, c44)))
    psi_end = math.asin(r12)
    power = _angle_power(r12)
    relu_pair = both and b3 == R and b4 == R
    for q in range(NODES.shape[0] * (levels + 1)):
        s, weight = _graded(q, levels)
        if both and r12 != 0.0:  # the (1, 2) term
            t, det, measure = _angle_point(s, power, psi_end, r12, c11, c22)
            e12 = t * c12
            e13, e23, e14, e24 = t * c13, t * c23, t * c14, t * c24
            # (x3, x4) given x1 = x2 = 0: C34 − B A⁻¹ Bᵀ
            v33 = c33 - (c22 * e13 * e13 - 2.0 * e12 * e13 * e23 + c11 * e23 * e23) / det
            v44 = c44 - (c22 * e14 * e14 - 2.0 * e12 * e14 * e24 + c11 * e24 * e24) / det
            v34 = c34 - (c22 * e13 * e14 - e12 * (e13 * e24 + e23 * e14)
                         + c11 * e23 * e24) / det
            total += weight * measure * moment2(b3, b4, max(v33, 0.0), v34, max(v44, 0.0))
        t = 1.0 - s * s  # the cross terms
        jac = 2.0 * s * weight
        if relu_pair:  # (b1, b2, b3, b4) = (H, H, R, R), relu's I4
            total += jac * (
                _relu_cross(c11, c12, c13, c14, c22, c23, c24, c33, c34, c44, t)
                + _relu_cross(c22, c12, c23, c24, c11, c13, c14, c33, c34, c44, t))
            continue
        if b1 == H:
            total += jac * (
                c13 * _cross(b2, b3, b4, c11, c12, c13, c14, c22, c23, c24, c33, c34, c44, t)
                + c14 * _cross(b2, b4, b3, c11, c12, c14, c13, c22, c24, c23, c44, c34, c33,
                               t))
        if b2 == H:
            total += jac * (
                c23 * _cross(b1, b3, b4, c22, c12, c23, c24, c11, c13, c14, c33, c34, c44, t)
                + c24 * _cross(b1, b4, b3, c22, c12, c24, c23, c11, c14, c13, c44, c34, c33,
                               t))
    return total
