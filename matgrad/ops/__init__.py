"""The op library: each op a small Op with its forward and backward side by side.

arithmetic  + - * / ** neg, div's rounding modes, addcmul addcdiv float_power copysign xlogy ldexp
            gcd lcm logaddexp logaddexp2 hypot
unary       exp log sqrt abs sign sin cos erf erfc logit sinc frexp signbit sgn positive deg2rad rad2deg
            real conj resolve_conj resolve_neg (identities: matgrad has no complex dtype)
activation  tanh sigmoid relu leaky_relu elu gelu softplus clamp clamp_min clamp_max
binary      maximum minimum where fmax fmin heaviside nextafter
matmul      @
reduction   sum mean max min amax amin aminmax argmax argmin var std logsumexp nansum nanmean
softmax     softmax log_softmax
shape       reshape transpose permute movedim squeeze unsqueeze expand flatten ravel atleast_nd astype clone
indexing    [] (basic and advanced indexing) flip fliplr flipud rot90 take put index_put
join        cat stack split pad hstack vstack dstack column_stack tensor_split h/v/dsplit block_diag
compare     < <= > >= == != logical_xor isposinf isneginf isreal is_nonzero (no gradient)
scatter     gather scatter scatter_add index_select index_add index_fill masked_select masked_scatter
            scatter_reduce index_copy select_scatter slice_scatter index_reduce diagonal_scatter
sort        sort argsort topk kthvalue median nanmedian mode quantile nanquantile unique bincount histc count_nonzero
            searchsorted bucketize isin unravel_index histogram histogramdd
strided     as_strided as_strided_scatter (a gather by the strided index: overlapping windows add their gradients)
copies      the *_copy functions (view_copy permute_copy slice_copy ...): each view, then a copy
views       narrow select unflatten unfold split_with_sizes meshgrid broadcast_tensors
            diag_embed diagflat cartesian_prod combinations vander
random_ops  multinomial bernoulli normal poisson, and the draws of uniform_ normal_ bernoulli_ random_
cumulative  cumsum cumprod cummax cummin logcumsumexp diff trapezoid trapz cumulative_trapezoid
linalg      einsum outer mv addmv addmm addbmm baddbmm renorm trace diag diagonal tril triu det inverse cdist dist
            cross kron tensordot inner vdot cov corrcoef
repeat      roll repeat tile repeat_interleave
decomp      solve cholesky slogdet eigh svd qr pinv matrix_exp, vector p-norms (behind matgrad.linalg)
special     lgamma digamma polygamma(0 and 1) erfinv i0 mvlgamma igamma igammac, and torch.special's
            erfcx ndtr ndtri log_ndtr i0e i1e i1 entr xlog1py zeta bessel_j0/j1 (behind matgrad.special)
bessel      torch.special's bessel_y0/y1, modified_bessel_i0/i1/k0/k1 (and scaled k0/k1), spherical_bessel_j0, airy_ai
polynomials torch.special's orthogonal polynomials (chebyshev T U V W and shifted, hermite H He, laguerre L, legendre P)
bitwise     bitwise_left_shift bitwise_right_shift (<< >>; and/or/xor/not are in compare)
ctc         ctc_loss (one op: the α/β recursions vectorised over the batch and the extended labels)
fractional_pool  fractional_max_pool2d/3d (PyTorch's windows from _random_samples; a gather of the argmax)

(matgrad/legacy_linalg.py: torch's old top-level chain_matmul logdet pinverse svd cholesky ..., on matgrad.linalg)

graph_namespace  the ops above under NumPy's names: what a backward runs on under create_graph
"""
from ..autograd import engine as _engine
from .graph_namespace import graph_ns

_engine.use_graph_namespace(graph_ns)  # the engine sits below the ops, so they hand it in
