"""Parsing browser stack traces into frames, and the fingerprint that groups errors.

Three formats reach us (see the README for examples):

- V8 (Chrome, Edge, Node): ``    at fn (https://x/app.js:1:561)`` or ``    at https://x/app.js:1:5``
- SpiderMonkey (Firefox): ``fn@https://x/app.js:1:561`` (``@https://…`` when anonymous)
- JavaScriptCore (Safari): ``fn@https://x/app.js:1:561``, ``global code@…``, a bare
  ``https://x/app.js:1:5`` when anonymous, and ``[native code]`` frames without a location

Lines and columns are 1-based in all three. Frames we cannot read (eval, native) are skipped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

# `at [async ][new ]fn [as alias] (loc)` or `at loc`; loc = url:line:col.
_V8_FRAME = re.compile(
    r"^\s*at (?:(?:async )?(?:new )?(?P<func>[^()]*?)(?: \[as [^\]]*\])? \()?"
    r"(?P<file>[^()\s]+?):(?P<line>\d+):(?P<col>\d+)\)?\s*$"
)
# Firefox and Safari: `fn@loc`; Safari's anonymous frames are a bare `loc`.
_AT_FRAME = re.compile(r"^\s*(?P<func>[^@\s][^@]*?)?@(?P<file>\S+?):(?P<line>\d+):(?P<col>\d+)\s*$")
_BARE_FRAME = re.compile(r"^\s*(?P<file>[a-z][\w+.-]*://\S+?):(?P<line>\d+):(?P<col>\d+)\s*$")

# Message folding: the variable parts of a message (ids, values, URLs) must not split groups.
_URL = re.compile(r"\b[a-z][\w+.-]*://[^\s'\"`<>()]+", re.IGNORECASE)
_UUID = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE
)
_HEX = re.compile(
    r"\b(?:0x[0-9a-f]+|(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,})\b", re.IGNORECASE
)
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`|\u201c[^\u201d\n]*\u201d")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPACES = re.compile(r"\s+")
_UNCAUGHT = re.compile(r"^(?:Uncaught (?:\(in promise\) )?)")
MAX_MESSAGE_CHARS = 512
MAX_STACK_CHARS = 65_536  # a hostile or runaway stack must not cost more than a long real one

# A content hash in a bundle's file name: `app.3f9a1c2b.js`, `index-BdF3x9Qz.js`,
# `main-ABCD1234.js` (esbuild), `chunk.8f2c…20 hex….js` (webpack).
_FILE_HASH = re.compile(r"[.-]([A-Za-z0-9_]{8,})(?=\.)")
_LOOKS_HASHED = re.compile(r"\d|[a-z][A-Z]|[A-Z]{2}")  # `checkout` is a name, `BdF3x9Qz` is not
_SOURCE_SCHEME = re.compile(r"^(?:webpack|vite|rollup|ng|app):/+(?:[^/]*/)?")  # + project name
_RELATIVE = re.compile(r"^(?:\.{1,2}/)+")
_MINIFIED_NAME_MAX = 2  # esbuild and terser mangle to 1-2 characters in all but huge scopes


@dataclass(frozen=True, slots=True)
class Frame:
    """One stack frame as the browser reported it (line and column 1-based)."""

    function: str
    file: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class ResolvedFrame:
    """A frame mapped back to the original source through a source map."""

    function: str
    file: str
    line: int
    column: int


def parse_stack(stack: str, max_frames: int) -> list[Frame]:
    """The frames of a V8, Firefox or Safari stack string, top (throwing) frame first."""
    frames: list[Frame] = []
    for raw in stack[:MAX_STACK_CHARS].splitlines():
        if "at " in raw and raw.lstrip().startswith("at "):
            match = _V8_FRAME.match(raw)
        elif "@" in raw:
            match = _AT_FRAME.match(raw)
        else:
            match = _BARE_FRAME.match(raw)
        if match is None:
            continue
        file = match["file"]
        if " > eval" in file or file.startswith(("native", "<anonymous>")):
            continue
        func = match.groupdict().get("func") or ""
        frames.append(Frame(clean_function(func), file, int(match["line"]), int(match["col"])))
        if len(frames) >= max_frames:
            break
    return frames


def clean_function(name: str) -> str:
    """A reported function name without engine decoration (`Object.`, Firefox's `/<`)."""
    name = name.strip()
    if name in ("<anonymous>", "global code", "module code", "eval code", "anonymous"):
        return ""
    name = name.rstrip("/<*")  # Firefox: `outer/<` is an anonymous function inside `outer`
    if "/" in name:
        name = name.rsplit("/", 1)[-1]
    return name.removeprefix("Object.")


def normalize_message(error_type: str, message: str) -> str:
    """The message with variable parts folded, so the same bug gives the same text."""
    message = _UNCAUGHT.sub("", message.strip())
    if error_type and message.startswith(error_type + ": "):
        message = message[len(error_type) + 2 :]
    message = message[: MAX_MESSAGE_CHARS * 2]
    message = _URL.sub("<url>", message)
    message = _QUOTED.sub("<str>", message)
    message = _UUID.sub("<uuid>", message)
    message = _HEX.sub("<hex>", message)
    message = _NUMBER.sub("<n>", message)
    return _SPACES.sub(" ", message).strip()[:MAX_MESSAGE_CHARS]


def file_path(url: str) -> str:
    """A bundle URL's path without origin, query, fragment or content hash."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    scheme = path.find("://")
    if scheme != -1:
        slash = path.find("/", scheme + 3)
        path = path[slash:] if slash != -1 else "/"
    folder, _, name = path.rpartition("/")
    name = _FILE_HASH.sub(_drop_hash, name)
    return f"{folder}/{name}" if folder or path.startswith("/") else name


def _drop_hash(match: re.Match[str]) -> str:
    return "" if _LOOKS_HASHED.search(match[1]) else match[0]


def source_path(source: str) -> str:
    """An original source name without bundler prefixes (`webpack://app/`, `../`)."""
    return _RELATIVE.sub("", _SOURCE_SCHEME.sub("", source.split("?", 1)[0]))


def is_minified_name(name: str) -> bool:
    return len(name) <= _MINIFIED_NAME_MAX


def is_in_app(file: str) -> bool:
    """Whether a frame is the app's own code (not a library, extension or the engine)."""
    if "node_modules/" in file or file.startswith(("node:", "<", "[")):
        return False
    return not file.startswith(
        ("chrome-extension:", "moz-extension:", "safari-extension:", "safari-web-extension:")
    )


def fingerprint(
    error_type: str,
    message: str,
    frames: Sequence[Frame],
    resolved: Sequence[ResolvedFrame | None],
    top_frames: int,
) -> str:
    """Group key of an error: type, folded message and the top in-app frames' file+function.

    A frame contributes its original file and function when a source map resolved it, else
    its bundle path without content hash and its function name unless minified. Never line
    or column numbers: those move with every edit and every build.
    """
    parts = [error_type, normalize_message(error_type, message)]
    if top_frames:
        keys: list[str] = []
        for frame, original in zip(frames, resolved, strict=True):
            if original is not None:
                if not is_in_app(original.file):
                    continue
                keys.append(f"{source_path(original.file)}|{original.function}")
            else:
                if not is_in_app(frame.file):
                    continue
                function = "" if is_minified_name(frame.function) else frame.function
                keys.append(f"{file_path(frame.file)}|{function}")
            if len(keys) == top_frames:
                break
        parts.extend(keys)
    digest = hashlib.blake2b("\n".join(parts).encode(), digest_size=8)
    return digest.hexdigest()


def format_v8(frames: Sequence[Frame], resolved: Sequence[ResolvedFrame | None]) -> str:
    """Frames as V8 prints them, original location where resolved, else the minified one."""
    lines = []
    for frame, original in zip(frames, resolved, strict=True):
        shown = original or frame
        location = f"{shown.file}:{shown.line}:{shown.column}"
        lines.append(
            f"    at {shown.function} ({location})" if shown.function else f"    at {location}"
        )
    return "\n".join(lines)
