"""Plain-text tables and the small statistics the benchmark prints."""

import math
import resource


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the value below which ``fraction`` of the samples fall."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: list[float]) -> tuple[str, str, str]:
    """p50, p95 and max of durations given in seconds, as milliseconds."""
    return (
        f"{percentile(seconds, 0.50) * 1000:.1f}",
        f"{percentile(seconds, 0.95) * 1000:.1f}",
        f"{max(seconds) * 1000:.1f}",
    )


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident set size now (Linux /proc); falls back to the peak elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return peak_rss_mb()
    return pages * resource.getpagesize() / (1024 * 1024)


def table(header: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,)) -> str:
    """Aligned columns: those in ``left`` hold text, the others numbers (right-aligned)."""
    cells = [header, *rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(header))]

    def line(row):
        return "  ".join(
            str(value).ljust(width) if index in left else str(value).rjust(width)
            for index, (value, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
