/**
 * The fixed part of every generated Python client (standard library only): the server's input checks
 * (a port of src/schema/checks.ts and validate.ts: same messages and error types), HTTP with retries,
 * polling, the SSE reader for stream(), output files and the Standard Webhooks signature check. The
 * generated module defines MODEL, VERSION, DEFAULT_BASE_URL, INPUT_SCHEMA and OUTPUT_SCHEMA before it.
 */
export const PY_RUNTIME = String.raw`
# ---------------------------------------------------------------------------------------------------
# Everything below is the same in every client kiln generates.

_TERMINAL = ("succeeded", "failed", "canceled", "aborted")


class InputIssue(TypedDict):
    """One problem with an input, as the server would report it (pydantic's loc/msg/type)."""

    loc: List[Union[str, int]]
    msg: str
    type: str


class InputError(ValueError):
    """The input was refused before anything was sent: the server would have answered 422."""

    def __init__(self, issues: List[InputIssue]) -> None:
        lines = ["- " + ".".join(str(p) for p in i["loc"] if p != "body") + ": " + i["msg"] for i in issues]
        super().__init__("invalid input for " + MODEL + ":\n" + "\n".join(lines))
        self.issues = issues


class PredictionError(RuntimeError):
    """The prediction ended without output: it failed, or it was canceled."""

    def __init__(self, status: str, detail: str, prediction: Optional[Dict[str, Any]] = None) -> None:
        if status == "failed":
            message = "prediction failed: " + detail
        else:
            message = "prediction was canceled" + (": " + detail if detail else "")
        super().__init__(message)
        self.status = status
        self.prediction = prediction


class ApiError(RuntimeError):
    """The API answered with an error status (after retries, when the status is retryable)."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(method + " " + url + " answered " + str(status) + ": " + body[:500])
        self.status = status
        self.body = body


class WebhookVerificationError(ValueError):
    """A webhook request whose signature, timestamp or body does not check out."""


def _repr(value: Any) -> str:
    return "'" + value + "'" if isinstance(value, str) else json.dumps(value)


def _one_of(values: List[Any]) -> str:
    shown = [_repr(v) for v in values]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " or " + shown[-1]


def _plural(n: int, word: str) -> str:
    return str(n) + " " + word + ("" if n == 1 else "s")


def _num(value: Any) -> str:
    # As JavaScript prints numbers (the server's messages): 5 not 5.0.
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _same(a: Any, b: Any) -> bool:
    # JSON semantics: true is not 1 (Python's bool is an int).
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_issue(s: Dict[str, Any], loc: List[Union[str, int]]) -> InputIssue:
    if s.get("format") == "uri":
        return {"loc": loc, "msg": "URL input should be a string or URL", "type": "url_type"}
    if isinstance(s.get("enum"), list):
        return {"loc": loc, "msg": "Input should be " + _one_of(s["enum"]), "type": "enum"}
    kinds = {
        "string": ("Input should be a valid string", "string_type"),
        "integer": ("Input should be a valid integer", "int_type"),
        "number": ("Input should be a valid number", "float_type"),
        "boolean": ("Input should be a valid boolean", "bool_type"),
        "array": ("Input should be a valid list", "list_type"),
        "object": ("Input should be a valid dictionary", "dict_type"),
    }
    msg, kind = kinds.get(s.get("type"), ("Input should not be null", "none_forbidden"))  # type: ignore[arg-type]
    return {"loc": loc, "msg": msg, "type": kind}


def _parses(value: str) -> bool:
    # Close to the server's URL.canParse: a scheme, and a host for http(s) URLs written with //.
    text = value.strip()
    try:
        parsed = urllib.parse.urlsplit(text)
        if not parsed.scheme:
            return False
        if parsed.scheme.lower() in ("http", "https", "ws", "wss", "ftp") and text[len(parsed.scheme) + 1 :].startswith("//"):
            host = parsed.hostname
            return bool(host) and " " not in (host or "")
        return True
    except ValueError:
        return False


def _check_uri(value: str, loc: List[Union[str, int]], out: List[InputIssue]) -> None:
    if value.startswith("data:"):
        if "," not in value:
            out.append({"loc": loc, "msg": "Input should be a valid data URI", "type": "url_parsing"})
        return
    if not _parses(value):
        out.append({"loc": loc, "msg": "Input should be a valid URL, relative URL without a base", "type": "url_parsing"})
        return
    lower = value[:8].lower()
    if not lower.startswith("http://") and not lower.startswith("https://"):
        out.append({"loc": loc, "msg": "URL scheme should be 'http', 'https' or 'data'", "type": "url_scheme"})


def _check_number(s: Dict[str, Any], value: Any, loc: List[Union[str, int]], out: List[InputIssue]) -> None:
    lo, hi = s.get("minimum"), s.get("maximum")
    ex_lo, ex_hi = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
    if _is_number(lo):
        if (value <= lo) if ex_lo is True else (value < lo):
            if ex_lo is True:
                out.append({"loc": loc, "msg": "Input should be greater than " + _num(lo), "type": "greater_than"})
            else:
                out.append({"loc": loc, "msg": "Input should be greater than or equal to " + _num(lo), "type": "greater_than_equal"})
    elif _is_number(ex_lo) and value <= ex_lo:
        out.append({"loc": loc, "msg": "Input should be greater than " + _num(ex_lo), "type": "greater_than"})
    if _is_number(hi):
        if (value >= hi) if ex_hi is True else (value > hi):
            if ex_hi is True:
                out.append({"loc": loc, "msg": "Input should be less than " + _num(hi), "type": "less_than"})
            else:
                out.append({"loc": loc, "msg": "Input should be less than or equal to " + _num(hi), "type": "less_than_equal"})
    elif _is_number(ex_hi) and value >= ex_hi:
        out.append({"loc": loc, "msg": "Input should be less than " + _num(ex_hi), "type": "less_than"})


def _check_string(s: Dict[str, Any], value: str, loc: List[Union[str, int]], out: List[InputIssue]) -> None:
    if s.get("format") == "uri":
        _check_uri(value, loc, out)
        return
    lo, hi = s.get("minLength"), s.get("maxLength")
    if _is_number(lo) and len(value) < lo:
        out.append({"loc": loc, "msg": "String should have at least " + _plural(lo, "character"), "type": "string_too_short"})
    if _is_number(hi) and len(value) > hi:
        out.append({"loc": loc, "msg": "String should have at most " + _plural(hi, "character"), "type": "string_too_long"})
    pattern = s.get("pattern")
    if isinstance(pattern, str):
        try:
            compiled: Optional[re.Pattern[str]] = re.compile(pattern)
        except re.error:
            compiled = None  # a pattern Python cannot compile is left to the server
        if compiled is not None and compiled.search(value) is None:
            out.append({"loc": loc, "msg": "String should match pattern '" + pattern + "'", "type": "string_pattern_mismatch"})


def _check_value(s: Dict[str, Any], value: Any, loc: List[Union[str, int]], out: List[InputIssue]) -> None:
    if value is None:
        if s.get("nullable") is not True:
            out.append(_type_issue(s, loc))
        return
    choices = s.get("enum")
    if isinstance(choices, list):
        if not any(_same(c, value) for c in choices):
            out.append({"loc": loc, "msg": "Input should be " + _one_of(choices), "type": "enum"})
        return
    kind = s.get("type")
    if kind == "string":
        if s.get("format") == "uri" and isinstance(value, (bytes, bytearray, pathlib.PurePath)):
            return  # sent as a data URI
        if not isinstance(value, str):
            out.append(_type_issue(s, loc))
            return
        _check_string(s, value, loc, out)
    elif kind == "integer":
        if not _is_number(value):
            out.append(_type_issue(s, loc))
            return
        if isinstance(value, float) and not value.is_integer():
            out.append({"loc": loc, "msg": "Input should be a valid integer, got a number with a fractional part", "type": "int_from_float"})
            return
        _check_number(s, value, loc, out)
    elif kind == "number":
        if not _is_number(value):
            out.append(_type_issue(s, loc))
            return
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            out.append({"loc": loc, "msg": "Input should be a finite number", "type": "finite_number"})
            return
        _check_number(s, value, loc, out)
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(_type_issue(s, loc))
    elif kind == "array":
        if not isinstance(value, (list, tuple)):
            out.append(_type_issue(s, loc))
            return
        lo, hi = s.get("minItems"), s.get("maxItems")
        if _is_number(lo) and len(value) < lo:
            out.append({"loc": loc, "msg": "List should have at least " + _plural(lo, "item") + " after validation, not " + str(len(value)), "type": "too_short"})
        if _is_number(hi) and len(value) > hi:
            out.append({"loc": loc, "msg": "List should have at most " + _plural(hi, "item") + " after validation, not " + str(len(value)), "type": "too_long"})
        items = s.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                _check_value(items, item, loc + [i], out)
    elif kind == "object":
        if not isinstance(value, dict):
            out.append(_type_issue(s, loc))


def check_input(input: Any) -> List[InputIssue]:
    """Checks an input exactly as the server will; an empty list means the server will accept it."""
    body = {} if input is None else input
    if not isinstance(body, dict):
        return [{"loc": ["body", "input"], "msg": "Input should be a valid dictionary", "type": "dict_type"}]
    properties = INPUT_SCHEMA.get("properties") or {}
    required = INPUT_SCHEMA.get("required") or []
    issues: List[InputIssue] = []
    for name, prop in properties.items():
        if name not in body:
            if "default" not in prop and name in required:
                issues.append({"loc": ["body", "input", name], "msg": "Field required", "type": "missing"})
            continue
        given = body[name]
        if given is None and name not in required and "default" not in prop:
            continue
        _check_value(prop, given, ["body", "input", name], issues)
    return issues


def _data_uri(data: bytes, mime: str) -> str:
    return "data:" + mime + ";base64," + base64.b64encode(data).decode("ascii")


def _encode(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return _data_uri(bytes(value), "application/octet-stream")
    if isinstance(value, pathlib.PurePath):
        mime = mimetypes.guess_type(str(value))[0] or "application/octet-stream"
        return _data_uri(pathlib.Path(value).read_bytes(), mime)
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


class OutputFile:
    """A file the model produced: its URL (or data: URI) and its bytes on demand."""

    def __init__(self, url: str, client: "Client") -> None:
        self.url = url
        self._client = client

    def read(self) -> bytes:
        """The file's bytes (downloaded, or decoded from the data: URI)."""
        return self._client._download(self.url)

    def save(self, path: Union[str, "os.PathLike[str]"]) -> pathlib.Path:
        target = pathlib.Path(path)
        target.write_bytes(self.read())
        return target

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return "OutputFile(" + repr(self.url[:80]) + ")"


def _decode_files(value: Any, s: Dict[str, Any], client: "Client") -> Any:
    if s.get("type") == "string" and s.get("format") == "uri" and isinstance(value, str):
        return OutputFile(value, client)
    items = s.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        return [_decode_files(v, items, client) for v in value]
    props = s.get("properties")
    if isinstance(value, dict) and isinstance(props, dict):
        return {k: _decode_files(v, props[k], client) if isinstance(props.get(k), dict) else v for k, v in value.items()}
    return value


def _header(headers: Any, name: str) -> Optional[str]:
    for key in headers.keys():
        if key.lower() == name:
            value = headers[key]
            return " ".join(value) if isinstance(value, (list, tuple)) else str(value)
    return None


def verify_webhook(
    headers: Mapping[str, Any],
    body: Union[bytes, str],
    secret: str,
    *,
    tolerance: float = 300,
    now: Optional[float] = None,
) -> Dict[str, Any]:
    """Checks a webhook's Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature
    "v1,<base64 HMAC-SHA256 of id.timestamp.body>") against the whsec_ secret and its timestamp against
    replays; returns the prediction it carries. Pass the raw body exactly as received."""
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    if not timestamp.isdigit():
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds: " + timestamp)
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        raise WebhookVerificationError(
            "webhook-timestamp is %d s away from now (tolerance %d s)" % (abs(current - int(timestamp)), tolerance)
        )
    if not secret.startswith("whsec_"):
        raise WebhookVerificationError("the secret must start with whsec_")
    try:
        key = base64.b64decode(secret[len("whsec_"):], validate=True)
    except ValueError:
        raise WebhookVerificationError("the secret is not whsec_<base64>") from None
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    mac = hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + raw, hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode("ascii")
    matched = False
    for part in signatures.split(" "):
        version, _, given = part.partition(",")
        if version == "v1" and hmac.compare_digest(given.encode(), expected.encode()):
            matched = True
    if not matched:
        raise WebhookVerificationError("no webhook-signature matches the body and the secret")
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        raise WebhookVerificationError("the webhook body is not JSON") from None


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower() + "://" + parts.netloc.lower()


class _Transport:
    """HTTP on urllib with retries: 429 and 5xx (and unreachable servers) with exponential backoff.
    Creating requests are retried only when they cannot have started a prediction (429, 502-504, a
    refused connection)."""

    def __init__(self, base_url: str, auth: Optional[str], retries: int, base_delay: float, max_delay: float, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.retries = max(0, retries)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = timeout

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def open(self, method: str, path: str, body: Any = None, headers: Optional[Dict[str, str]] = None, timeout: Optional[float] = None) -> Any:
        url = self.url(path)
        data = None if body is None else json.dumps(body).encode("utf-8")
        all_headers = {"user-agent": "kiln-client/" + MODEL, "accept": "application/json"}
        if data is not None:
            all_headers["content-type"] = "application/json"
        # The token goes only to the API's own origin, never to a file host an output URL points at.
        if self.auth and _origin(url) == _origin(self.base_url):
            all_headers["authorization"] = "Bearer " + self.auth
        all_headers.update(headers or {})
        creates = method == "POST" and not urllib.parse.urlsplit(url).path.rstrip("/").endswith("/cancel")
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
            try:
                return urllib.request.urlopen(request, timeout=self.timeout if timeout is None else timeout)
            except urllib.error.HTTPError as err:
                status = err.code
                retryable = status == 429 or (status in (502, 503, 504) if creates else status >= 500)
                text = err.read().decode("utf-8", "replace")
                if not retryable or attempt >= self.retries:
                    raise ApiError(method, url, status, text) from None
                delay = self._delay(attempt, err.headers.get("retry-after"))
            except urllib.error.URLError as err:
                refused = isinstance(err.reason, ConnectionRefusedError)
                if (creates and not refused) or attempt >= self.retries:
                    raise
                delay = self._delay(attempt, None)
            time.sleep(delay)
            attempt += 1

    def json(self, method: str, path: str, body: Any = None, headers: Optional[Dict[str, str]] = None) -> Any:
        with self.open(method, path, body, headers) as response:
            return json.loads(response.read().decode("utf-8"))

    def _delay(self, attempt: int, retry_after: Optional[str]) -> float:
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), self.max_delay)
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(retry_after).timestamp()
                    return min(max(when - time.time(), 0.0), self.max_delay)
                except (TypeError, ValueError):
                    pass
        return min(self.max_delay, self.base_delay * (2 ** attempt)) * random.uniform(0.8, 1.2)
`;

/** Only in clients of streaming models. */
export const PY_SSE = String.raw`

def _read_sse(response: Any) -> Iterator[Dict[str, str]]:
    """Events of a text/event-stream response (fields event, data, id; data lines joined with \n)."""
    event, data, event_id = "message", [], ""
    for raw in response:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line == "":
            if data:
                yield {"event": event, "data": "\n".join(data), "id": event_id}
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue
        field, _, text = line.partition(":")
        if text.startswith(" "):
            text = text[1:]
        if field == "event":
            event = text
        elif field == "data":
            data.append(text)
        elif field == "id":
            event_id = text
`;
