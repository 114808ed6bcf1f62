# tests/svg.sh: sourced by the tests of xt-report plot, after lib.sh: what
# an SVG it drew shows, read with python3's XML parser.
#
#   svg_ticks FILE x|y     the first panel's tick labels of that axis, by " "
#   svg_text FILE CLASS    the texts of that class (and the legends' for
#                          "legend"), joined by "|"
#   legend_place FILE      where the first panel's legend is against its
#                          plot area: "under", "right" or "over"

svg_ticks() {
	python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
g = [e for e in root.iter() if e.get("class") == "ticks"][0]
a = "middle" if sys.argv[2] == "x" else "end"
print(" ".join(t.text for t in g if t.get("text-anchor") == a))' "$@"
}
svg_text() {
	python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
c = sys.argv[2]
if c == "legend":
    t = [t.text or "" for g in root.iter() if g.get("class") == c for t in g.iter() if t.tag.endswith("text")]
else:
    t = [e.text or "" for e in root.iter() if e.get("class") == c]
print("|".join(t))' "$@"
}
legend_place() {
	python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ax = [e for e in root.iter() if e.get("class") == "axes"][0]
l = list(ax)[0]  # the x axis
ybase, xend = float(l.get("y1")), float(l.get("x2"))
lg = [e for e in root.iter() if e.get("class") == "legend"][0]
ts = [t for t in lg if t.tag.endswith("text")]
print("under" if all(float(t.get("y")) > ybase + 30 for t in ts) else
      "right" if all(float(t.get("x")) > xend for t in ts) else "over")' "$@"
}
