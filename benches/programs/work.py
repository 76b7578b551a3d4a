# The python3 row of benches/programs.mjs: what a small script does — an in-memory sqlite
# table, JSON round trips and regular expressions — and one line of output to compare.
import json
import re
import sqlite3

db = sqlite3.connect(":memory:")
db.execute("create table t (id integer primary key, name text, n integer)")
db.executemany("insert into t (name, n) values (?, ?)", ((f"name{i}", i * 7 % 1000) for i in range(20000)))
total = db.execute("select sum(n), count(*) from t where name like 'name1%'").fetchone()
doc = json.dumps([{"id": i, "tags": [f"t{j}" for j in range(5)]} for i in range(5000)])
back = json.loads(doc)
words = re.findall(r"t[0-9]+", doc)
print(total, len(back), len(words))
