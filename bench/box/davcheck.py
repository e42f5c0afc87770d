"""Checks a WebDAV PROPFIND Depth 1 answer (a 207 multistatus body saved to a file).

usage: python3 davcheck.py FILE EXPECTED_CHILDREN [CHILD_SIZE]

Counts the responses: the folder itself plus EXPECTED_CHILDREN members. Every member must
carry, with a 200 propstat, a non-empty getetag, getlastmodified, a resourcetype (empty for a
file) and, when CHILD_SIZE is given, getcontentlength = CHILD_SIZE. Prints
"responses=N members=M" and exits 0 when all holds, else prints what does not and exits 1.
Standard library only (xml.etree)."""
import sys
import xml.etree.ElementTree as ET

D = "{DAV:}"


def main():
    path, want = sys.argv[1], int(sys.argv[2])
    size = sys.argv[3] if len(sys.argv) > 3 else None
    root = ET.parse(path).getroot()
    if root.tag != D + "multistatus":
        print(f"root element is {root.tag}, not DAV:multistatus")
        return 1
    responses = root.findall(D + "response")
    problems = []
    members = 0
    hrefs = [r.findtext(D + "href") or "" for r in responses]
    # the folder itself is the shortest href (the one the request named)
    folder = min(hrefs, key=len) if hrefs else ""
    for r, href in zip(responses, hrefs):
        if href == folder:
            continue
        members += 1
        props = {}
        for ps in r.findall(D + "propstat"):
            status = ps.findtext(D + "status") or ""
            if " 200 " not in status:
                continue
            prop = ps.find(D + "prop")
            if prop is not None:
                for p in prop:
                    props[p.tag] = p
        missing = [n for n in ("getetag", "getlastmodified", "resourcetype") if D + n not in props]
        if missing:
            problems.append(f"{href}: no 200 {', '.join(missing)}")
        elif not (props[D + "getetag"].text or "").strip():
            problems.append(f"{href}: empty getetag")
        elif len(props[D + "resourcetype"]) != 0:
            problems.append(f"{href}: resourcetype is not empty (not a file)")
        elif size is not None and (props.get(D + "getcontentlength") is None
                                   or (props[D + "getcontentlength"].text or "").strip() != size):
            problems.append(f"{href}: getcontentlength is not {size}")
        if len(problems) >= 5:
            break
    print(f"responses={len(responses)} members={members}")
    if members != want:
        problems.append(f"{members} members listed, {want} expected")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
