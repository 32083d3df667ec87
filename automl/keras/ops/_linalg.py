"""stub"""
__all__ = []
