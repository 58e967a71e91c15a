"""A small Discord on 127.0.0.1: REST and gateway, enough for the unmodified bot to log in, sync
commands, receive interactions and messages, and reply.

It keeps Discord's rules where a bot can break them, and records every breach in ``problems`` for
the test to fail on: message limits (answered with Discord's 400), ``allowed_mentions`` missing or
not empty, an interaction answered after three seconds or twice (Discord's 10062 and 40060), a
follow-up before the interaction was acknowledged. It can also misbehave the way Discord does: a 429
with ``retry-after`` and ``X-RateLimit-*`` headers, a 5xx, and a gateway close that the client must
resume, with missed events replayed. Tests inject events and await what the bot sends over the wire,
every wait bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = "900000000000000001"
BOT_ID = APP_ID
GUILD_ID = "900000000000000100"
CHANNEL_ID = "900000000000000200"
SECOND_GUILD_ID = str(int(GUILD_ID) + (1 << 22))
"""A second server, on the other shard of two (tests with two shards add it to `guilds`)."""
SECOND_CHANNEL_ID = "900000000000000300"
CHANNELS = {GUILD_ID: CHANNEL_ID, SECOND_GUILD_ID: SECOND_CHANNEL_ID}
ADMIN_PERMS = str(1 << 5 | 1 << 3)  # MANAGE_GUILD | ADMINISTRATOR
MEMBER_PERMS = str(1 << 11 | 1 << 10)  # SEND_MESSAGES | VIEW_CHANNEL
MESSAGE_CONTENT_INTENT = 1 << 15
INTERACTION_DEADLINE = 3.0
SESSION_ID = "session-1"

# Discord's documented message limits.
CONTENT_LIMIT, EMBEDS_LIMIT, EMBED_TOTAL = 2000, 10, 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
FOOTER_LIMIT, FIELD_NAME_LIMIT, FIELD_VALUE_LIMIT, FIELDS_LIMIT = 2048, 256, 1024, 25
ROWS_LIMIT, ROW_ITEMS_LIMIT, LABEL_LIMIT, CUSTOM_ID_LIMIT = 5, 5, 80, 100


def user(uid: str, name: str, bot: bool = False) -> dict[str, Any]:
    return {"id": uid, "username": name, "discriminator": "0", "global_name": name, "avatar": None, "bot": bot}


def embed_problems(embeds: list[dict[str, Any]]) -> list[str]:
    problems = []
    if len(embeds) > EMBEDS_LIMIT:
        problems.append(f"{len(embeds)} embeds > {EMBEDS_LIMIT}")
    total = 0
    for n, embed in enumerate(embeds):
        for key, limit in EMBED_LIMITS.items():
            size = len(embed.get(key) or "")
            total += size
            if size > limit:
                problems.append(f"embed {n} {key} has {size} characters > {limit}")
        footer = len((embed.get("footer") or {}).get("text") or "")
        total += footer
        if footer > FOOTER_LIMIT:
            problems.append(f"embed {n} footer has {footer} characters > {FOOTER_LIMIT}")
        fields = embed.get("fields") or []
        if len(fields) > FIELDS_LIMIT:
            problems.append(f"embed {n} has {len(fields)} fields > {FIELDS_LIMIT}")
        for f in fields:
            total += len(f["name"]) + len(f["value"])
            if len(f["name"]) > FIELD_NAME_LIMIT or len(f["value"]) > FIELD_VALUE_LIMIT:
                problems.append(f"embed {n} field {f['name'][:30]!r} is over its limit")
    if total > EMBED_TOTAL:
        problems.append(f"embeds hold {total} characters > {EMBED_TOTAL}")
    return problems


def message_problems(data: dict[str, Any]) -> list[str]:
    """Why Discord would refuse this message payload (empty when it would accept it)."""
    problems = []
    content = data.get("content") or ""
    if len(content) > CONTENT_LIMIT:
        problems.append(f"content has {len(content)} characters > {CONTENT_LIMIT}")
    problems += embed_problems(data.get("embeds") or [])
    rows = data.get("components") or []
    if len(rows) > ROWS_LIMIT:
        problems.append(f"{len(rows)} component rows > {ROWS_LIMIT}")
    for row in rows:
        items = row.get("components") or []
        if len(items) > ROW_ITEMS_LIMIT:
            problems.append(f"a row has {len(items)} components > {ROW_ITEMS_LIMIT}")
        for item in items:
            if len(item.get("label") or "") > LABEL_LIMIT:
                problems.append(f"button label {item['label'][:30]!r} is over {LABEL_LIMIT}")
            if len(item.get("custom_id") or "") > CUSTOM_ID_LIMIT:
                problems.append(f"custom_id over {CUSTOM_ID_LIMIT}")
    return problems


@dataclass
class Request:
    """One thing the bot sent: a REST call (method, path, JSON or multipart body) or a gateway
    frame (method ``WS``, path ``/gateway`` or ``/resume``), with what the fake answered."""

    method: str
    path: str
    body: Any
    at: float
    status: int = 200
    response: Any = None

    @property
    def message(self) -> dict[str, Any]:
        """The message this request created, as Discord returned it (to click its buttons)."""
        if isinstance(self.response, dict) and "resource" in self.response:
            return self.response["resource"]["message"]
        assert isinstance(self.response, dict) and "id" in self.response, f"{self.path} created no message"
        return self.response


_SNOWFLAKES = itertools.count(910000000000000000)


@dataclass
class Fault:
    method: str
    path_prefix: str
    status: int
    retry_after: float


@dataclass
class FakeDiscord:
    requests: list[Request] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    intents: int | None = None
    port: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: _SNOWFLAKES)
    """Shared by every fake of a test run: as on Discord, an id is never given twice, also not
    after a restart (a conversation kept under a message id must not meet a new message of it)."""
    _ws: web.WebSocketResponse | None = None
    _seq: int = 0
    _events: list[dict[str, Any]] = field(default_factory=list)
    _issued: dict[str, float] = field(default_factory=dict)
    _acknowledged: set[str] = field(default_factory=set)
    _public_thinking: set[str] = field(default_factory=set)
    """Interactions deferred publicly whose "thinking" message no follow-up or edit has replaced."""
    _new_request: asyncio.Condition | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    """Attachments members uploaded, served at /attachments/<id>/<name> as Discord's CDN would."""
    modals: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Interaction id to the modal the bot opened in answer to it."""
    _source_message: dict[str, str] = field(default_factory=dict)
    """Interaction id to the id of the message its button was on: an update (type 7) edits that
    message in place, keeping its id, as Discord does."""
    _shards: dict[int, web.WebSocketResponse] = field(default_factory=dict)
    """Shard number to its gateway connection, for bots that identify with a shard."""
    shard_count: int | None = None
    threads: dict[str, str] = field(default_factory=dict)
    """Threads the bot opened: id (that of the message it started from) to name."""
    guilds: list[str] = field(default_factory=lambda: [GUILD_ID])
    """The servers the bot is in; each on its shard when the bot is sharded."""
    _interaction_guild: dict[str, str] = field(default_factory=dict)

    def next_id(self) -> str:
        return str(next(self._ids))

    @property
    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def start(self) -> None:
        self._new_request = asyncio.Condition()
        app = web.Application()
        app.router.add_get("/gateway", self.gateway)
        app.router.add_get("/resume", self.gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self.rest)
        app.router.add_get("/attachments/{aid}/{name}", self.attachment)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        await self._runner.cleanup()

    def unanswered(self) -> list[str]:
        """Interactions nobody answered within Discord's deadline."""
        late = self.now - INTERACTION_DEADLINE
        return [iid for iid, t in self._issued.items() if iid not in self._acknowledged and t < late]

    async def _record(self, req: Request) -> None:
        assert self._new_request is not None
        async with self._new_request:
            self.requests.append(req)
            self._new_request.notify_all()

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> Request:
        """The first request (already made or still to come) that matches, or a timeout."""
        assert self._new_request is not None
        condition = self._new_request

        async def find() -> Request:
            seen = 0
            async with condition:
                while True:
                    for req in self.requests[seen:]:
                        if predicate(req):
                            return req
                    seen = len(self.requests)
                    await condition.wait()

        return await asyncio.wait_for(find(), timeout)

    async def answer_to(self, iid: str, timeout: float = 10.0) -> Request:
        """The callback (first response) the bot sent to interaction ``iid``."""
        return await self.wait_for(lambda r: r.path.startswith(f"/interactions/{iid}/") and r.status < 300, timeout)

    async def followup_to(self, iid: str, timeout: float = 10.0) -> Request:
        """The first accepted follow-up message the bot sent for interaction ``iid``."""
        return await self.wait_for(
            lambda r: r.path.startswith(f"/webhooks/{APP_ID}/tok{iid}") and r.method == "POST" and r.status < 300,
            timeout,
        )

    # ---- faults -----------------------------------------------------------------------------
    def fail_next(self, method: str, path_prefix: str, status: int, retry_after: float = 0.0) -> None:
        """The next matching request gets ``status`` instead of service: 429 (with ``retry_after``),
        403 (Missing Access) or a 5xx."""
        self.faults.append(Fault(method, path_prefix, status, retry_after))

    def _fault_for(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and path.startswith(fault.path_prefix):
                self.faults.remove(fault)
                return fault
        return None

    def _fault_response(self, fault: Fault) -> web.Response:
        if fault.status == 429:
            headers = {
                "Via": "1.1 google",  # discord.py reads a 429 without it as a Cloudflare ban
                "Retry-After": str(math.ceil(fault.retry_after)),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                "X-RateLimit-Bucket": "fake-bucket",
                "X-RateLimit-Scope": "user",
            }
            body = {"message": "You are being rate limited.", "retry_after": fault.retry_after, "global": False}
            return self._json(body, 429, headers)
        if fault.status == 403:
            return self._json({"message": "Missing Access", "code": 50001}, 403)
        return self._json({"message": "Bad Gateway", "code": 0}, fault.status)

    # ---- REST -------------------------------------------------------------------------------
    @staticmethod
    def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        # Exactly application/json: discord.py treats anything else as text.
        return web.Response(
            status=status,
            body=json.dumps(data).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    @staticmethod
    async def _body(request: web.Request) -> Any:
        if request.content_type == "application/json":
            return await request.json()
        if request.content_type.startswith("multipart/"):
            body: dict[str, Any] = {}
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    body.update(json.loads(await part.text()))  # type: ignore[union-attr]
                else:
                    body.setdefault("files", []).append(
                        {"filename": part.filename, "content": await part.read()}  # type: ignore[union-attr]
                    )
            return body
        return None

    async def attachment(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["aid"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data)

    def upload(self, filename: str, data: bytes, content_type: str = "application/pdf") -> dict[str, Any]:
        """A file a member attaches to a command: its payload, for `slash(..., attachments=[...])`."""
        aid = self.next_id()
        self.files[aid] = data
        url = f"http://127.0.0.1:{self.port}/attachments/{aid}/{filename}"
        return {
            "id": aid,
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }

    async def rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        req = Request(request.method, path, await self._body(request), self.now)
        fault = self._fault_for(request.method, path)
        if fault is not None:
            response = self._fault_response(fault)
            req.status = fault.status
        else:
            req.status, req.response = self._serve(req)
            response = self._json(req.response, req.status)
        await self._record(req)
        return response

    def _serve(self, req: Request) -> tuple[int, Any]:
        path, body = req.path, req.body
        if path == "/users/@me":
            return 200, user(BOT_ID, "Verbatim", bot=True)
        if path == "/oauth2/applications/@me":
            return 200, {
                "id": APP_ID,
                "name": "Verbatim",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": user("1", "owner"),
                "verify_key": "",
                "flags": 0,
                "interactions_endpoint_url": None,
            }
        if path.endswith("/commands") and req.method == "PUT":
            return 200, [{**c, "id": self.next_id(), "application_id": APP_ID, "version": "1"} for c in body]
        if path.startswith("/interactions/"):
            return self._callback(req)
        if path.startswith("/webhooks/"):
            token = path.split("/")[3]
            iid = token.removeprefix("tok")
            if iid not in self._acknowledged:
                self.problems.append(f"follow-up on {token} before the interaction was acknowledged")
                return 404, {"message": "Unknown Webhook", "code": 10015}
            if iid in self._public_thinking and req.method in ("POST", "PATCH"):
                # Real Discord makes the first follow-up after a public deferral the public message
                # itself, whatever its flags say: a bot that sends it flagged private is mistaken.
                self._public_thinking.discard(iid)
                if req.method == "POST" and (body or {}).get("flags", 0) & 64:
                    self.problems.append(
                        f"interaction {iid}: the first follow-up after a public deferral is flagged private, "
                        "but Discord would show it to everyone"
                    )
        opened = re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path)
        if opened and req.method == "POST":
            return 201, self.open_thread(opened.group(1), opened.group(2), (body or {}).get("name", ""))
        is_message = path.startswith("/webhooks/") or (path.startswith("/channels/") and "/messages" in path)
        if is_message:
            if req.method in ("POST", "PATCH"):
                refused = self._check_message(req.path, body or {})
                if refused:
                    return refused
            guild = GUILD_ID
            if path.startswith("/webhooks/"):
                guild = self._interaction_guild.get(path.split("/")[3].removeprefix("tok"), GUILD_ID)
            message = self.message(body or {}, guild)
            if path.startswith("/channels/"):
                message["channel_id"] = path.split("/")[2]  # a reply in a thread is in the thread
            return 200, message
        return 200, {}

    def open_thread(self, channel_id: str, message_id: str, name: str) -> dict[str, Any]:
        """A public thread started from a message: as on Discord, it has the message's id."""
        if not 1 <= len(name) <= 100:
            self.problems.append(f"thread name of {len(name)} characters (Discord allows 1 to 100)")
        self.threads[message_id] = name
        return {
            "id": message_id,
            "type": 11,
            "guild_id": GUILD_ID,
            "parent_id": channel_id,
            "owner_id": BOT_ID,
            "name": name,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": "2026-01-01T00:00:00+00:00",
                "locked": False,
            },
        }

    def _check_message(self, where: str, data: dict[str, Any]) -> tuple[int, Any] | None:
        if data.get("allowed_mentions") != {"parse": []}:
            self.problems.append(f"{where}: allowed_mentions is {data.get('allowed_mentions')!r}, not none()")
        problems = message_problems(data)
        if not problems:
            return None
        self.problems += [f"{where}: {p}" for p in problems]
        return 400, {"message": "Invalid Form Body", "code": 50035, "errors": problems}

    def _callback(self, req: Request) -> tuple[int, Any]:
        iid = req.path.split("/")[2]
        issued = self._issued.get(iid)
        if issued is None or req.at - issued > INTERACTION_DEADLINE:
            self.problems.append(f"interaction {iid} answered after the deadline")
            return 404, {"message": "Unknown interaction", "code": 10062}
        if iid in self._acknowledged:
            self.problems.append(f"interaction {iid} answered twice")
            return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}
        kind = req.body.get("type")
        data = req.body.get("data") or {}
        if kind in (4, 7):
            refused = self._check_message(req.path, data)
            if refused:
                return refused
        self._acknowledged.add(iid)
        if kind == 9:
            self.modals[iid] = data
        if kind == 5 and not data.get("flags", 0) & 64:
            self._public_thinking.add(iid)
        payload: dict[str, Any] = {
            "interaction": {
                "id": iid,
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & 64),
            }
        }
        if kind in (4, 5, 7):
            msg = self.message(data, self._interaction_guild.get(iid, GUILD_ID))
            if kind == 7 and iid in self._source_message:
                msg["id"] = self._source_message[iid]
            payload["interaction"]["response_message_id"] = msg["id"]
            payload["resource"] = {"type": kind, "message": msg}
        return 200, payload

    def message(self, body: dict[str, Any], guild: str = GUILD_ID) -> dict[str, Any]:
        return {
            "id": self.next_id(),
            "channel_id": CHANNELS[guild],
            "guild_id": guild,
            "author": user(BOT_ID, "Verbatim", bot=True),
            "content": body.get("content") or "",
            "timestamp": "2026-01-01T00:00:00+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags", 0),
            "components": body.get("components") or [],
        }

    # ---- gateway ----------------------------------------------------------------------------
    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45000}})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            await self._record(Request("WS", request.path, frame, self.now))
            if frame["op"] == 1:
                await ws.send_json({"op": 11})
            elif frame["op"] == 2:
                self.intents = frame["d"]["intents"]
                shard = frame["d"].get("shard")
                if shard is not None:  # one connection per shard, as Discord routes a guild's events
                    self._shards[int(shard[0])] = ws
                    self.shard_count = int(shard[1])
                mine = [g for g in self.guilds if shard is None or self.guild_shard(g) == int(shard[0])]
                await self.dispatch(
                    "READY",
                    {
                        "v": 10,
                        "user": user(BOT_ID, "Verbatim", bot=True),
                        "guilds": [{"id": g, "unavailable": True} for g in mine],
                        "session_id": SESSION_ID,
                        "resume_gateway_url": f"ws://127.0.0.1:{self.port}/resume",
                        "application": {"id": APP_ID, "flags": 0},
                        # As Discord does, READY names the shard an IDENTIFY asked for.
                        **({"shard": frame["d"]["shard"]} if "shard" in frame["d"] else {}),
                    },
                    to=ws,
                )
                for g in mine:
                    await self.dispatch("GUILD_CREATE", self.guild(g), to=ws)
            elif frame["op"] == 6:
                if frame["d"]["session_id"] != SESSION_ID:
                    await ws.send_json({"op": 9, "d": False})
                    continue
                for event in self._events:  # what the client missed, then RESUMED
                    if event["s"] > (frame["d"]["seq"] or 0):
                        await ws.send_json(event)
                self._seq += 1
                await ws.send_json({"op": 0, "t": "RESUMED", "s": self._seq, "d": {}})
        if self._ws is ws:
            self._ws = None
        return ws

    async def disconnect(self, code: int = 4000) -> None:
        """Close the gateway the way Discord does before a resume (4000: unknown error)."""
        ws, self._ws = self._ws, None
        assert ws is not None, "no gateway connection to close"
        await ws.close(code=code, message=b"fake Discord closed the session")

    def guild(self, guild: str = GUILD_ID) -> dict[str, Any]:
        return {
            "id": guild,
            "name": "Analysts",
            "owner_id": "1",
            "unavailable": False,
            "member_count": 2,
            "roles": [
                {
                    "id": guild,
                    "name": "@everyone",
                    "permissions": MEMBER_PERMS,
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "channels": [
                {"id": CHANNELS[guild], "type": 0, "name": "statements", "position": 0, "permission_overwrites": []}
            ],
            "members": [],
            "threads": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "emojis": [],
            "stickers": [],
            "features": [],
        }

    def guild_shard(self, guild: str = GUILD_ID) -> int:
        """The shard Discord sends a guild's events to: (guild id >> 22) % shard count."""
        return (int(guild) >> 22) % (self.shard_count or 1)

    async def dispatch(self, event: str, data: dict[str, Any], to: web.WebSocketResponse | None = None) -> None:
        """Send an event now (to the connection `to`, else the guild's shard, else the one
        connection), or keep it for the resume when the gateway is down."""
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._events.append(frame)
        guild = str(data.get("guild_id") or GUILD_ID)
        ws = to or (self._shards.get(self.guild_shard(guild)) if self._shards else None) or self._ws
        if ws is not None and not ws.closed:
            await ws.send_json(frame)

    def member(self, uid: str, name: str, admin: bool = False) -> dict[str, Any]:
        return {
            "user": user(uid, name),
            "roles": [],
            "permissions": ADMIN_PERMS if admin else MEMBER_PERMS,
            "joined_at": "2025-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
        }

    async def _interaction(
        self, kind: int, data: dict[str, Any], uid: str, admin: bool = False, guild: str = GUILD_ID, **extra: Any
    ) -> str:
        iid = self.next_id()
        self._issued[iid] = self.now
        if "message" in extra:
            self._source_message[iid] = extra["message"]["id"]
            guild = str(extra["message"].get("guild_id") or guild)
        self._interaction_guild[iid] = guild
        await self.dispatch(
            "INTERACTION_CREATE",
            {
                "id": iid,
                "application_id": APP_ID,
                "type": kind,
                "token": f"tok{iid}",
                "version": 1,
                "data": data,
                "guild_id": guild,
                "channel_id": CHANNELS[guild],
                "channel": {"id": CHANNELS[guild], "type": 0, "guild_id": guild, "name": "statements"},
                "member": self.member(uid, f"user{uid}", admin),
                "locale": "en-US",
                "guild_locale": "en-US",
                "app_permissions": MEMBER_PERMS,
                "entitlements": [],
                "attachment_size_limit": 10485760,
                "authorizing_integration_owners": {},
                "context": 0,
                **extra,
            },
        )
        return iid

    async def slash(
        self,
        name: str,
        options: list[dict[str, Any]],
        uid: str = "500",
        admin: bool = False,
        kind: int = 2,
        attachments: Sequence[dict[str, Any]] = (),
        guild: str = GUILD_ID,
    ) -> str:
        """A member runs /name (kind 2), or types into a focused option (kind 4, autocomplete), in
        `guild`; attachment options refer to `attachments` (from `upload`) by id, as Discord does."""
        data: dict[str, Any] = {"id": self.next_id(), "name": name, "type": 1, "options": options, "guild_id": guild}
        if attachments:
            data["resolved"] = {"attachments": {a["id"]: a for a in attachments}}
        return await self._interaction(kind, data, uid, admin, guild)

    async def submit_modal(
        self, opened_by: str, values: dict[str, str], message: dict[str, Any], uid: str = "500"
    ) -> str:
        """A member fills in the modal the bot opened in answer to interaction `opened_by` (fields
        named by label; the others keep their defaults) and submits it."""
        modal = self.modals[opened_by]
        rows = []
        for row in modal["components"]:
            for item in row["components"]:
                value = values.get(item["label"], item.get("value", ""))
                rows.append({"type": 1, "components": [{"type": 4, "custom_id": item["custom_id"], "value": value}]})
        data = {"custom_id": modal["custom_id"], "components": rows}
        return await self._interaction(5, data, uid, message=message)

    async def click(self, message: dict[str, Any], label: str, uid: str = "500") -> str:
        """A member presses the button whose label starts with ``label`` on a message the bot sent."""
        buttons = [c for row in message["components"] for c in row["components"]]
        matches = [b for b in buttons if b.get("label", "").startswith(label)]
        assert matches, f"no button {label!r} among {[b.get('label') for b in buttons]}"
        data = {"custom_id": matches[0]["custom_id"], "component_type": 2}
        return await self._interaction(3, data, uid, message=message)

    async def say(
        self,
        content: str,
        uid: str = "500",
        mention_bot: bool = True,
        reply_to: str | None = None,
        channel_id: str = CHANNEL_ID,
    ) -> str:
        """A member posts in the channel (or a thread: `channel_id`), maybe as a reply to a message
        (`reply_to`; Discord then mentions that message's author unless the member turns it off).
        Without the message-content intent, Discord blanks the content of messages that do not
        mention the bot, and so does this fake."""
        mid = self.next_id()
        visible = mention_bot or bool((self.intents or 0) & MESSAGE_CONTENT_INTENT)
        reference = {"message_id": reply_to, "channel_id": channel_id, "guild_id": GUILD_ID} if reply_to else None
        await self.dispatch(
            "MESSAGE_CREATE",
            {
                **self.message({"content": content if visible else ""}),
                "id": mid,
                "channel_id": channel_id,
                "author": user(uid, f"user{uid}"),
                "member": {k: v for k, v in self.member(uid, f"user{uid}").items() if k != "user"},
                "mentions": [user(BOT_ID, "Verbatim", bot=True)] if mention_bot else [],
                **({"message_reference": reference, "type": 19} if reference else {}),
            },
        )
        return mid
