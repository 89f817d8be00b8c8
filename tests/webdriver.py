"""A small W3C WebDriver client over aiohttp, to drive Debian's chromium through chromedriver
without a browser-automation dependency."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import shutil
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def browser_paths() -> tuple[str, str] | None:
    """chromium and chromedriver from the system (Debian's packages), if both are there."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Browser:
    """One headless chromium session."""

    def __init__(self, http: aiohttp.ClientSession, base: str, session_id: str) -> None:
        self.http, self.url = http, f"{base}/session/{session_id}"

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.http.request(method, self.url + path, json=body) as response:
            data = await response.json()
            if response.status != 200:
                raise AssertionError(f"WebDriver {path}: {data['value'].get('message')}")
            return data["value"]

    async def open(self, url: str) -> None:
        await self.call("POST", "/url", {"url": url})

    async def run(self, script: str, *args: Any) -> Any:
        """Run JavaScript in the page (elements pass as WebDriver references)."""
        return await self.call("POST", "/execute/sync", {"script": script, "args": list(args)})

    async def find_all(self, xpath: str) -> list[dict[str, str]]:
        found: list[dict[str, str]] = await self.call(
            "POST", "/elements", {"using": "xpath", "value": xpath}
        )
        return found

    async def wait_for(self, xpath: str, within: float = 20.0) -> dict[str, str]:
        """The last element matching the XPath, once there is one."""
        deadline = time.monotonic() + within
        while True:
            found = await self.find_all(xpath)
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing matches {xpath} after {within}s")
            await asyncio.sleep(0.2)

    async def click(self, element: dict[str, str]) -> None:
        await self.call("POST", f"/element/{element[ELEMENT]}/click", {})

    async def type(self, element: dict[str, str], text: str) -> None:
        await self.call("POST", f"/element/{element[ELEMENT]}/value", {"text": text})

    async def screen(self, width: int, height: int, *, mobile: bool) -> None:
        """Emulate a screen size (a phone's too, below chromium's smallest window)."""
        await self.call(
            "POST",
            "/goog/cdp/execute",
            {
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": {
                    "width": width,
                    "height": height,
                    "deviceScaleFactor": 2 if mobile else 1,
                    "mobile": mobile,
                },
            },
        )

    async def screenshot(self) -> bytes:
        """The viewport as PNG."""
        return base64.b64decode(await self.call("GET", "/screenshot"))


@contextlib.asynccontextmanager
async def chromium(browser: str, driver: str) -> AsyncIterator[Browser]:
    """chromedriver on a free port and a headless chromium session through it."""
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        driver,
        f"--port={port}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(base + "/status") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.1)
            options = {
                "binary": browser,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,860",
                    "--lang=en",
                ],
            }
            capabilities = {"alwaysMatch": {"goog:chromeOptions": options}}
            async with http.post(base + "/session", json={"capabilities": capabilities}) as r:
                created = await r.json()
                if r.status != 200:
                    raise AssertionError(f"chromium did not start: {created['value']}")
            session = Browser(http, base, created["value"]["sessionId"])
            try:
                yield session
            finally:
                with contextlib.suppress(AssertionError, aiohttp.ClientError):
                    await session.call("DELETE", "")
    finally:
        proc.terminate()
        await proc.wait()
