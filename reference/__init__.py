"""Reference solutions of homework 1, one module per problem (see README.md).

vector_calculus, l1_regression, relu_fit, universal_approx, softmax_jacobian,
fashion_mlp, numpy_backprop; manifests in `reference.assignments`.
"""
