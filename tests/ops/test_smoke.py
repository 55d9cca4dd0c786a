from tests.helpers import check_op


def test_mul_broadcast():
    check_op(lambda a, b: a * b, (3, 1, 4), (5, 4))
