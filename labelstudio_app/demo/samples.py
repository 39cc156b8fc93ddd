#!/usr/bin/env python3
"""(Vendored copy of ../shared/data/make_samples.py, so the demo works without ../shared.)

Writes sample files for Flywheel's demo, tests and benchmarks.

    python3 make_samples.py OUT_DIR [--messages N] [--seed S]

Writes, into OUT_DIR:
  group_chat.log        raw group-chat export, one message a line: "YYYY-MM-DD HH:MM:SS <sender>: <text>"
  alpaca.json           alpaca records (instruction / input / output), with a task_type field
  sharegpt.jsonl        ShareGPT conversations (from / value)
  openai_chat.jsonl     OpenAI chat fine-tuning records (messages of role / content)
  items.csv             plain items: external_id, text, task_type
  needs_context.jsonl   labelled items with ground truth for the "does this question need the chat context?" task
                        (label 需要 / 不需要 / 不是问题, the template id to split on, and a gold standalone rewrite)

Everything is synthetic and deterministic for a given seed. Standard library only.
"""
import argparse
import csv
import datetime as dt
import json
import pathlib
import random

PROJECTS = ["mmpose", "mmdeploy", "ncnn", "lmdeploy", "xtuner", "mmdetection", "opencompass", "vllm"]
TARGETS = ["TX2", "Jetson Orin", "树莓派 4B", "安卓手机", "RK3588", "A100", "昇腾 910B", "M2 MacBook"]
NAMES = ["张三", "李四", "王二", "赵六", "孙七", "周八", "吴九", "郑十", "alice", "bob_dev", "老王", "小林"]

# (task_type, template) — {p} a project, {t} a target; some questions stand alone, some lean on context.
STANDALONE = [
    ("deployment / edge", "{p} 支持在 {t} 上部署吗？"),
    ("deployment / edge", "Does {p} run on {t} with fp16?"),
    ("install / build", "{p} 在 {t} 上编译报错 undefined reference to `pthread_create`，怎么解决？"),
    ("install / build", "pip install {p} 之后 import 失败，提示找不到 libcudart.so.12，是什么原因？"),
    ("usage / api", "{p} 的推理接口怎么设置 batch size？"),
    ("usage / api", "How do I export a model from {p} to ONNX?"),
    ("performance", "{p} 在 {t} 上跑一张图要 300ms，正常吗？有什么优化办法？"),
    ("performance", "Why is {p} slower on {t} than the numbers in the README?"),
    ("concept", "int8 量化和 fp16 相比精度一般掉多少？"),
    ("concept", "LoRA 的 rank 应该怎么选？"),
]
NEEDS_CONTEXT = [
    ("deployment / edge", "搭车问一下，怎么把它部署到 {t}？"),
    ("deployment / edge", "那这个能在 {t} 上跑吗？"),
    ("usage / api", "它的 python 接口在哪个文件里？"),
    ("performance", "同问，这个有 benchmark 吗？"),
    ("install / build", "我也遇到了，你后来怎么解决的？"),
    ("concept", "这两个有什么区别？"),
]
CHATTER = [
    "哈哈哈", "收到", "👍", "谢谢大佬", "今天的 release 看了吗", "周末有人去 meetup 吗", "+1",
    "我去试试", "好的", "mark", "[图片]", "刚提了个 PR，求 review", "晚点再看", "666",
]
ANSWERS = [
    "可以，参考官方文档的部署章节，先转 ONNX 再用对应后端。",
    "Yes. Build with the platform toolchain and enable fp16 in the config.",
    "一般是 CUDA 版本不匹配，检查 nvcc --version 和驱动版本。",
    "先确认输入分辨率，再开 int8 量化，通常能快一倍。",
    "rank 8~64 都常见，数据少就小一点，先用 16 试。",
]


def chat_log(rng: random.Random, n: int) -> list[str]:
    t = dt.datetime(2024, 3, 1, 9, 0, 0)
    lines = []
    for _ in range(n):
        t += dt.timedelta(seconds=rng.randint(3, 900))
        sender = rng.choice(NAMES)
        r = rng.random()
        if r < 0.18:
            text = rng.choice(STANDALONE)[1]
        elif r < 0.26:
            text = rng.choice(NEEDS_CONTEXT)[1]
        elif r < 0.36:
            text = rng.choice(ANSWERS)
        else:
            text = rng.choice(CHATTER)
        text = text.format(p=rng.choice(PROJECTS), t=rng.choice(TARGETS))
        lines.append(f"{t:%Y-%m-%d %H:%M:%S} {sender}: {text}")
        # a sender often splits one thought over two lines
        if rng.random() < 0.07:
            t += dt.timedelta(seconds=rng.randint(1, 20))
            lines.append(f"{t:%Y-%m-%d %H:%M:%S} {sender}: {rng.choice(['在线等', '急', '有人知道吗', '用的是最新版'])}")
    return lines


def qa_records(rng: random.Random, n: int) -> list[dict]:
    out = []
    for i in range(n):
        task_type, tpl = rng.choice(STANDALONE)
        q = tpl.format(p=rng.choice(PROJECTS), t=rng.choice(TARGETS))
        out.append({"id": f"q{i:05d}", "task_type": task_type, "question": q, "answer": rng.choice(ANSWERS)})
    return out


# Ground truth for the coreference task: (task_type, question with a reference, the same question made standalone).
# {p} is the project the context talks about, {t} a target. Used only by labelled_items(), on its own random stream.
LABELLED_NEEDS = [
    ("deployment / edge", "搭车问一下，怎么把它部署到 {t}？", "怎么把 {p} 部署到 {t}？"),
    ("deployment / edge", "那这个能在 {t} 上跑吗？", "{p} 能在 {t} 上跑吗？"),
    ("usage / api", "它的 python 接口在哪个文件里？", "{p} 的 python 接口在哪个文件里？"),
    ("performance", "同问，这个有 benchmark 吗？", "{p} 有 benchmark 吗？"),
    ("install / build", "我也遇到了，你后来怎么解决的？", "{p} 编译报错，你后来怎么解决的？"),
    ("deployment / edge", "Does it also work on {t}?", "Does {p} also work on {t}?"),
    ("performance", "Is that one faster on {t}?", "Is {p} faster on {t}?"),
    ("usage / api", "Where is its config file?", "Where is the config file of {p}?"),
    ("install / build", "上面那个报错我也有，装的是最新版", "{p} 最新版安装报错，怎么解决？"),
    ("concept", "它和 TensorRT 比有什么优势？", "{p} 和 TensorRT 比有什么优势？"),
]
LABELLED_STANDALONE = [
    *STANDALONE,
    ("deployment / edge", "Can {p} be deployed on {t} without CUDA?"),
    ("usage / api", "{p} 怎么加载自己训练的权重？"),
    ("concept", "What is the difference between w4a16 and w8a8 quantization?"),
    ("install / build", "{p} 支持 Python 3.12 吗？"),
]
LABELLED_CHATTER = [*CHATTER, "好的谢谢", "我晚上回去试试", "nice", "今天群里好热闹"]


def labelled_items(rng: random.Random, n: int) -> list[dict]:
    """Items with the label a careful annotator gives, so benchmarks can score a model against the truth.
    About 40% need the context, 40% stand alone, 20% are not questions. `template` lets a split hold out
    whole templates (a harder test than held-out fill-ins)."""
    t0 = dt.datetime(2024, 5, 1, 9, 0, 0)
    out = []
    for i in range(n):
        p, t = rng.choice(PROJECTS), rng.choice(TARGETS)
        other = rng.choice([x for x in PROJECTS if x != p])
        when = t0 + dt.timedelta(minutes=7 * i)
        context = [
            {"sender": rng.choice(NAMES), "text": rng.choice([f"{p} 新版本发布了，支持 {t}", f"I just tried {p} on {t}",
                                                              f"{p} 的文档更新了", f"有人用 {p} 吗？"]),
             "time": f"{when - dt.timedelta(seconds=90):%Y-%m-%d %H:%M:%S}"},
        ]
        if rng.random() < 0.5:  # a distractor turn before it, naming another project
            context.insert(0, {"sender": rng.choice(NAMES), "text": f"{other} 昨天也发版了",
                               "time": f"{when - dt.timedelta(seconds=300):%Y-%m-%d %H:%M:%S}"})
        r = rng.random()
        if r < 0.4:
            k = rng.randrange(len(LABELLED_NEEDS))
            task_type, q, rewrite = LABELLED_NEEDS[k]
            rec = {"label": "需要", "template": f"needs-{k}", "text": q.format(p=p, t=t),
                   "rewrite": rewrite.format(p=p, t=t)}
        elif r < 0.8:
            k = rng.randrange(len(LABELLED_STANDALONE))
            task_type, q = LABELLED_STANDALONE[k]
            text = q.format(p=p, t=t)
            rec = {"label": "不需要", "template": f"standalone-{k}", "text": text, "rewrite": text}
        else:
            k = rng.randrange(len(LABELLED_CHATTER))
            task_type = ""
            rec = {"label": "不是问题", "template": f"chatter-{k}", "text": LABELLED_CHATTER[k], "rewrite": ""}
        out.append({"external_id": f"nc{i:05d}", "task_type": task_type, "context": context, **rec})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--records", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    (out / "group_chat.log").write_text("\n".join(chat_log(rng, a.messages)) + "\n", encoding="utf-8")

    recs = qa_records(rng, a.records)
    alpaca = [{"instruction": r["question"], "input": "", "output": r["answer"], "task_type": r["task_type"]} for r in recs]
    (out / "alpaca.json").write_text(json.dumps(alpaca, ensure_ascii=False, indent=1), encoding="utf-8")
    with open(out / "sharegpt.jsonl", "w", encoding="utf-8") as f:
        for r in recs:
            conv = [{"from": "human", "value": r["question"]}, {"from": "gpt", "value": r["answer"]}]
            f.write(json.dumps({"id": r["id"], "task_type": r["task_type"], "conversations": conv}, ensure_ascii=False) + "\n")
    with open(out / "openai_chat.jsonl", "w", encoding="utf-8") as f:
        for r in recs:
            msgs = [{"role": "system", "content": "你是开源社区群聊助手。"},
                    {"role": "user", "content": r["question"]},
                    {"role": "assistant", "content": r["answer"]}]
            f.write(json.dumps({"messages": msgs, "task_type": r["task_type"]}, ensure_ascii=False) + "\n")
    with open(out / "items.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["external_id", "text", "task_type"])
        for r in recs:
            w.writerow([r["id"], r["question"], r["task_type"]])

    # its own random stream, so the files above stay exactly as they were for a given seed
    with open(out / "needs_context.jsonl", "w", encoding="utf-8") as f:
        for rec in labelled_items(random.Random(a.seed * 1000 + 1), a.records):
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
