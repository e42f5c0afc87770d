# json.awk: prints every scalar of one JSON document as "path=value", one a line.
# Path parts are object keys and array indexes (from 0) joined by "/": {"a":[{"b":1}]} gives "a/0/b=1".
# Strings lose their quotes; \" \\ \/ are decoded, \n \r \t become spaces, \uXXXX stays as written.
# null prints as an empty value. Exit status 1 on malformed input. Written for busybox awk.
{ doc = doc $0 "\n" }
END {
  pos = 1; n = length(doc); bad = 0
  value("")
  skip_ws()
  if (bad || pos <= n) { print "json.awk: malformed JSON near offset " pos > "/dev/stderr"; exit 1 }
}
function skip_ws(   c) {
  while (pos <= n) {
    c = substr(doc, pos, 1)
    if (c != " " && c != "\t" && c != "\n" && c != "\r") return
    pos++
  }
}
function join(path, key) { return (path == "") ? key : (path "/" key) }
function value(path,   c) {
  skip_ws(); c = substr(doc, pos, 1)
  if (c == "{") obj(path)
  else if (c == "[") arr(path)
  else if (c == "\"") print join_value(path, str())
  else print join_value(path, literal())
}
function join_value(path, v) { return path "=" v }
function obj(path,   key, c) {
  pos++; skip_ws()
  if (substr(doc, pos, 1) == "}") { pos++; return }
  while (!bad) {
    skip_ws()
    if (substr(doc, pos, 1) != "\"") { bad = 1; return }
    key = str(); skip_ws()
    if (substr(doc, pos, 1) != ":") { bad = 1; return }
    pos++
    value(join(path, key)); skip_ws()
    c = substr(doc, pos, 1); pos++
    if (c == "}") return
    if (c != ",") { bad = 1; return }
  }
}
function arr(path,   i, c) {
  pos++; skip_ws()
  if (substr(doc, pos, 1) == "]") { pos++; return }
  for (i = 0; !bad; i++) {
    value(join(path, i)); skip_ws()
    c = substr(doc, pos, 1); pos++
    if (c == "]") return
    if (c != ",") { bad = 1; return }
  }
}
function str(   out, c, e) {
  out = ""; pos++
  while (pos <= n) {
    c = substr(doc, pos, 1); pos++
    if (c == "\"") return out
    if (c == "\\") {
      e = substr(doc, pos, 1); pos++
      if (e == "n" || e == "r" || e == "t") out = out " "
      else if (e == "u") out = out "\\u"
      else if (e == "b" || e == "f") out = out
      else out = out e
    } else out = out c
  }
  bad = 1; return out
}
function literal(   start, c) {
  start = pos
  while (pos <= n) {
    c = substr(doc, pos, 1)
    if (c == "," || c == "}" || c == "]" || c == " " || c == "\t" || c == "\n" || c == "\r") break
    pos++
  }
  if (pos == start) { bad = 1; return "" }
  c = substr(doc, start, pos - start)
  return (c == "null") ? "" : c
}
