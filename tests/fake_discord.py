"""A small Discord on 127.0.0.1: REST and gateway, enough for the unmodified bot to log in, sync
commands, receive interactions and messages, and reply. Tests inject events and await what the
bot sends over the wire, each wait bounded by a timeout."""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = "900000000000000001"
BOT_ID = APP_ID
GUILD_ID = "900000000000000100"
CHANNEL_ID = "900000000000000200"
ADMIN_PERMS = str(1 << 5 | 1 << 3)  # MANAGE_GUILD | ADMINISTRATOR
MEMBER_PERMS = str(1 << 11 | 1 << 10)  # SEND_MESSAGES | VIEW_CHANNEL


def user(uid: str, name: str, bot: bool = False) -> dict[str, Any]:
    return {"id": uid, "username": name, "discriminator": "0", "global_name": name, "avatar": None, "bot": bot}


@dataclass
class Request:
    method: str
    path: str
    body: Any


@dataclass
class FakeDiscord:
    requests: list[Request] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(910000000000000000))
    _ws: web.WebSocketResponse | None = None
    _seq: int = 0
    _new_request: asyncio.Condition | None = None
    port: int = 0

    def next_id(self) -> str:
        return str(next(self._ids))

    async def start(self) -> None:
        self._new_request = asyncio.Condition()
        app = web.Application()
        app.router.add_get("/gateway", self.gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self.rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        await self._runner.cleanup()

    # ---- REST -------------------------------------------------------------------------------
    @staticmethod
    def _json(data: Any, status: int = 200) -> web.Response:
        # Exactly application/json: discord.py treats anything else as text.
        return web.Response(status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})

    async def rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.content_type == "application/json":
            body = await request.json()
        elif request.content_type.startswith("multipart/"):
            body = {}
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    body.update(json.loads(await part.text()))  # type: ignore[union-attr]
                else:
                    body.setdefault("files", []).append(await part.read())  # type: ignore[union-attr]
        assert self._new_request is not None
        async with self._new_request:
            self.requests.append(Request(request.method, path, body))
            self._new_request.notify_all()
        if path == "/users/@me":
            return self._json(user(BOT_ID, "Verbatim", bot=True))
        if path == "/oauth2/applications/@me":
            return self._json(
                {
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
            )
        if path.endswith("/commands") and request.method == "PUT":
            return self._json([{**c, "id": self.next_id(), "application_id": APP_ID, "version": "1"} for c in body])
        if path.startswith("/interactions/"):
            iid = path.split("/")[2]
            kind = body.get("type")
            data = body.get("data") or {}
            payload: dict[str, Any] = {
                "interaction": {
                    "id": iid,
                    "type": 2,
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(data.get("flags", 0) & 64),
                }
            }
            if kind in (4, 5, 7):
                msg = self.message(data)
                payload["interaction"]["response_message_id"] = msg["id"]
                payload["resource"] = {"type": kind, "message": msg}
            return self._json(payload)
        if path.startswith("/webhooks/") or path.startswith("/channels/"):
            return self._json(self.message(body or {}))
        return self._json({})

    def message(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.next_id(),
            "channel_id": CHANNEL_ID,
            "guild_id": GUILD_ID,
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

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> Request:
        """The first request (already made or still to come) that matches, or a timeout."""
        assert self._new_request is not None

        async def find() -> Request:
            seen = 0
            async with self._new_request:  # type: ignore[union-attr]
                while True:
                    for req in self.requests[seen:]:
                        if predicate(req):
                            return req
                    seen = len(self.requests)
                    await self._new_request.wait()  # type: ignore[union-attr]

        return await asyncio.wait_for(find(), timeout)

    # ---- gateway ----------------------------------------------------------------------------
    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45000}})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data["op"] == 1:
                await ws.send_json({"op": 11})
            elif data["op"] == 2:
                await self.dispatch(
                    "READY",
                    {
                        "v": 10,
                        "user": user(BOT_ID, "Verbatim", bot=True),
                        "guilds": [{"id": GUILD_ID, "unavailable": True}],
                        "session_id": "s1",
                        "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
                        "application": {"id": APP_ID, "flags": 0},
                    },
                )
                await self.dispatch("GUILD_CREATE", self.guild())
        return ws

    def guild(self) -> dict[str, Any]:
        return {
            "id": GUILD_ID,
            "name": "Analysts",
            "owner_id": "1",
            "unavailable": False,
            "member_count": 2,
            "roles": [
                {
                    "id": GUILD_ID,
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
                {"id": CHANNEL_ID, "type": 0, "name": "statements", "position": 0, "permission_overwrites": []}
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

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self._ws is not None
        self._seq += 1
        await self._ws.send_json({"op": 0, "t": event, "s": self._seq, "d": data})

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

    async def _interaction(self, kind: int, data: dict[str, Any], uid: str, admin: bool = False, **extra: Any) -> str:
        iid = self.next_id()
        await self.dispatch(
            "INTERACTION_CREATE",
            {
                "id": iid,
                "application_id": APP_ID,
                "type": kind,
                "token": f"tok{iid}",
                "version": 1,
                "data": data,
                "guild_id": GUILD_ID,
                "channel_id": CHANNEL_ID,
                "channel": {"id": CHANNEL_ID, "type": 0, "guild_id": GUILD_ID, "name": "statements"},
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
        self, name: str, options: list[dict[str, Any]], uid: str = "500", admin: bool = False, kind: int = 2
    ) -> str:
        data = {"id": self.next_id(), "name": name, "type": 1, "options": options, "guild_id": GUILD_ID}
        return await self._interaction(kind, data, uid, admin)

    async def click(self, message: dict[str, Any], custom_id: str, uid: str = "500") -> str:
        return await self._interaction(3, {"custom_id": custom_id, "component_type": 2}, uid, message=message)

    async def say(self, content: str, uid: str = "500", mention_bot: bool = True) -> str:
        mid = self.next_id()
        await self.dispatch(
            "MESSAGE_CREATE",
            {
                **self.message({"content": content}),
                "id": mid,
                "author": user(uid, f"user{uid}"),
                "member": {k: v for k, v in self.member(uid, f"user{uid}").items() if k != "user"},
                "mentions": [user(BOT_ID, "Verbatim", bot=True)] if mention_bot else [],
            },
        )
        return mid
