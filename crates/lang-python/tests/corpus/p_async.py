import types
@types.coroutine
def sleep0():
    yield
async def worker(name, n, log):
    for i in range(n):
        log.append(f"{name}{i}")
        await sleep0()
    return name * n
def run_all(coros):
    results = [None] * len(coros)
    pending = list(enumerate(coros))
    while pending:
        nxt = []
        for i, c in pending:
            try:
                c.send(None)
                nxt.append((i, c))
            except StopIteration as e:
                results[i] = e.value
        pending = nxt
    return results
log = []
print(run_all([worker("a", 2, log), worker("b", 3, log)]), log)
async def agen():
    for i in range(3):
        yield i
async def consume():
    return [x async for x in agen()]
c = consume()
try:
    c.send(None)
except StopIteration as e:
    print(e.value)
