"""A TCP proxy that adds delay on one service's connections only (the network-delay fault).

Usage: delayproxy.py LISTEN_PORT TARGET_PORT CONTROL_FILE. It forwards bytes both ways; while
CONTROL_FILE holds {"delay_ms": D}, every chunk waits D/2 ms in each direction, so a
request/response exchange takes D ms longer and the service behind sees nothing different.
The proxy is always in the path, with 0 delay in the baseline.
"""
import asyncio
import json
import sys

LISTEN, TARGET, CONTROL = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
delay_s = 0.0


async def watch_control():
    global delay_s
    while True:
        try:
            with open(CONTROL, encoding="utf-8") as f:
                delay_s = float(json.load(f).get("delay_ms", 0)) / 1000.0
        except (OSError, ValueError):
            delay_s = 0.0
        await asyncio.sleep(0.25)


async def pipe(reader, writer):
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            if delay_s > 0:
                await asyncio.sleep(delay_s / 2)
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(client_r, client_w):
    try:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", TARGET)
    except OSError:
        client_w.close()
        return
    await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))


async def main():
    asyncio.get_running_loop().create_task(watch_control())
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
