#!/usr/bin/python3
# check_format.py SCRAPE - check a /metrics answer against the Prometheus
# text exposition format 0.0.4 as ceptord promises it (deploy/METRICS.md):
#   - every line is a comment (# HELP / # TYPE) or a sample that parses:
#     NAME{LABEL="VALUE",...} NUMBER, with valid names and escapes;
#   - every family has exactly one HELP and one TYPE line, before its
#     samples, and its samples come together;
#   - names start with ceptor_, counters end in _total, no duplicate series;
#   - a histogram's samples are its _bucket series (each with an le label,
#     cumulative, ending with le="+Inf"), then _sum and _count, and
#     _count equals the +Inf bucket;
#   - the official Python client's parser reads the text too (an
#     independent implementation of the format).
# Prints one line per family ("NAME TYPE") on stdout; problems go to stderr
# with the line number, and the exit status is 1.
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = r'"(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(
    rf"^({NAME})(?:\{{((?:{LABEL}={VALUE})(?:,{LABEL}={VALUE})*)?\}})? "
    r"([-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|NaN|[-+]?Inf))$")
HELP = re.compile(rf"^# HELP ({NAME}) (.*)$")
TYPE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")


def check_histogram(where, family, name, labels, value, hist, problems):
    h = hist.setdefault(family, {"last": 0.0, "inf": None, "count": None})
    if name.endswith("_bucket"):
        le = re.search(r'(?:^|,)le="([^"]*)"', labels)
        if not le:
            problems.append(f"{where}: {name} without an le label")
            return
        if value < h["last"]:
            problems.append(f"{where}: {name} buckets are not cumulative")
        h["last"] = value
        if le.group(1) == "+Inf":
            h["inf"] = value
    elif name.endswith("_count"):
        if h["inf"] is None:
            problems.append(f"{where}: {name} before the le=\"+Inf\" bucket")
        elif value != h["inf"]:
            problems.append(f"{where}: {name} {value} differs from the +Inf "
                            f"bucket {h['inf']}")


def main(path):
    text = open(path, encoding="utf-8").read()
    problems = []
    helps, types, seen_series, order = {}, {}, set(), []
    hist = {}  # histogram family -> {"last": cumulative, "inf": count}
    current = None  # the family whose samples are coming
    done = set()    # families whose samples are over
    if not text.endswith("\n"):
        problems.append("the text does not end with a newline")
    for n, line in enumerate(text.splitlines(), 1):
        where = f"{path}:{n}"
        if line.startswith("#"):
            m = HELP.match(line) or TYPE.match(line)
            if not m:
                problems.append(f"{where}: comment is neither HELP nor TYPE: {line!r}")
                continue
            name = m.group(1)
            table = helps if line.startswith("# HELP") else types
            if name in table:
                problems.append(f"{where}: second {line.split()[1]} for {name}")
            table[name] = m.group(2)
            if current != name:
                if name in done:
                    problems.append(f"{where}: {name} comes back after other families")
                if current:
                    done.add(current)
                current = name
                order.append(name)
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append(f"{where}: not a sample line: {line!r}")
            continue
        name, labels = m.group(1), m.group(2) or ""
        family = name
        if types.get(current) == "histogram" and name in (
                current + "_bucket", current + "_sum", current + "_count"):
            family = current
            check_histogram(where, current, name, labels, float(m.group(3)),
                            hist, problems)
        if family != current:
            problems.append(f"{where}: sample {name} is not under its HELP/TYPE")
        if family not in helps or family not in types:
            problems.append(f"{where}: {name} has no HELP or no TYPE before it")
        series = (name, labels)
        if series in seen_series:
            problems.append(f"{where}: duplicate series {name}{{{labels}}}")
        seen_series.add(series)
    for name in order:
        if not name.startswith("ceptor_"):
            problems.append(f"{name}: not under the ceptor_ prefix")
        if name not in helps or name not in types:
            problems.append(f"{name}: HELP or TYPE missing")
        elif types[name] == "counter" and not name.endswith("_total"):
            problems.append(f"{name}: a counter whose name does not end in _total")
        elif types[name] != "counter" and name.endswith("_total"):
            problems.append(f"{name}: ends in _total but is a {types[name]}")
    try:
        from prometheus_client.parser import text_string_to_metric_families
        parsed = {f.name: f.type for f in text_string_to_metric_families(text)}
        # The client strips _total from counter family names.
        for name in order:
            base = name[:-6] if types.get(name) == "counter" else name
            if parsed.get(base) != types.get(name):
                problems.append(f"{name}: the Python client reads it as "
                                f"{parsed.get(base)!r}")
    except ImportError:
        problems.append("python3-prometheus-client is missing (tools/deps.sh)")
    except Exception as exc:  # the parser's own complaint
        problems.append(f"prometheus_client cannot parse the text: {exc}")
    for p in problems:
        print(p, file=sys.stderr)
    for name in order:
        print(name, types.get(name, "?"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
