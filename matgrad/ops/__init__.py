"""The op library: each op a small Op with its forward and backward side by side.

arithmetic  + - * / ** neg
unary       exp log sqrt abs sign sin cos erf
activation  tanh sigmoid relu leaky_relu elu gelu softplus clamp
binary      maximum minimum where
matmul      @
reduction   sum mean max min amax amin argmax argmin var std logsumexp
softmax     softmax log_softmax
shape       reshape transpose permute squeeze unsqueeze expand flatten astype
indexing    [] (basic and advanced indexing)
join        cat stack split pad
compare     < <= > >= == != (no gradient)
scatter     gather scatter scatter_add index_select index_add index_fill masked_select masked_scatter
sort        sort argsort topk kthvalue median mode quantile unique bincount histc count_nonzero
views       narrow select unflatten unfold split_with_sizes meshgrid broadcast_tensors
random_ops  multinomial bernoulli normal, and the draws of uniform_ normal_ bernoulli_ random_
cumulative  cumsum cumprod cummax cummin logcumsumexp
linalg      einsum outer mv addmm baddbmm trace diag diagonal tril triu det inverse cdist dist
repeat      roll repeat repeat_interleave

graph_namespace  the ops above under NumPy's names: what a backward runs on under create_graph
"""
from ..autograd import engine as _engine
from .graph_namespace import graph_ns

_engine.use_graph_namespace(graph_ns)  # the engine sits below the ops, so they hand it in
