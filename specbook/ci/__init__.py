"""Conditional-independence (CI) tests for Algorithm 1.

Every test is a callable object ``test(x, y, z) -> CITestResult`` that tests
``x indep y | z``; the p-value is small when the data show a dependence. Users can
plug in their own test with the same signature.

=============  ============================================================  ==========
name           test                                                          null
=============  ============================================================  ==========
``fisherz``    Fisher's z on the partial correlation (scalar x and y);       asymptotic
               Bartlett's partial canonical correlation test (vectors)
``gcm``        generalised covariance measure on cross-fitted random         asymptotic
               Fourier feature ridge regressions (the fast nonparametric
               test)
``knn-cmi``    Frenzel-Pompe kNN conditional mutual information              local
                                                                             permutation
``neural-cmi`` InfoNCE critic with locally shuffled negatives, scored on     local
               held-out samples                                              permutation
=============  ============================================================  ==========

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> z = rng.standard_normal(500)
>>> x, y = z + rng.standard_normal(500), z + rng.standard_normal(500)
>>> ci_test(x, y, z).pvalue > 0.01      # independent given z
True
>>> ci_test(x, y).pvalue < 1e-10        # dependent without z
True
"""
from .fisherz import FisherZ
from .gcm import GCM
from .knn_cmi import KnnCMI
from .neural_cmi import NeuralCMI
from .protocol import CITest, CovarianceCITest, GivenTheRestCITest, IndexedCovarianceCITest, PermutationCITest
from .registry import CI_TESTS, check_ci_result, ci_test, describe_test, get_ci_test
from .result import CITestResult

__all__ = ["CITestResult", "FisherZ", "GCM", "KnnCMI", "NeuralCMI", "CI_TESTS", "get_ci_test", "ci_test",
           "check_ci_result", "describe_test", "CITest", "CovarianceCITest", "GivenTheRestCITest",
           "IndexedCovarianceCITest", "PermutationCITest"]
