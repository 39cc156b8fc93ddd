from django import template

register = template.Library()


@register.filter
def param_count(value) -> str:
    """494032768 -> '494M'; None -> '—'."""
    if value is None:
        return "—"
    for unit, size in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return str(value)
