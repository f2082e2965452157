"""The afternoon of docs/packs.md, for real: a Portuguese pack from `new-language pt` to a pack that
validates.

    python benchmarks/afternoon.py [--keep DIR]

Every step is the command a community would type, run in a scratch folder (its own languages/,
outputs/, Argilla data and credentials), printed with its output: scaffold → draft → review → accept →
validate → generate. The models are the scripted OpenAI-compatible server (tests/scripted_openai.py, a real
HTTP server) answering like a model set drafting a pack: mostly good drafts, some in another language,
some wrapped in talk, some chatter only, and the second model repeating the first. The reviewers are
this script, answering through Argilla's API: most drafts accepted, a few edited, rejected or left
pending. Takes about two minutes (the local Argilla server starts once).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from scripted_openai import ScriptedOpenAI  # noqa: E402  (the test double, run in this process)

# Topics a Portuguese-speaking community might list (draft-prompts --topics): one prompt per topic.
TOPICS = """a chuva de verão|o mar ao entardecer|as folhas secas do outono
a primeira neve na serra|um gato a dormir ao sol
o cheiro do café de manhã|uma estação de comboios vazia
as cerejeiras em flor|a lua cheia sobre a cidade|o vento nas montanhas
o fado numa noite de agosto|as sardinhas na brasa|o elétrico a subir a colina
os azulejos de uma fachada antiga|o farol numa noite de tempestade
as vindimas no Douro|um barco de pesca ao amanhecer|o mercado de sábado
as andorinhas a voltar na primavera|a roupa a secar na varanda
o pão acabado de sair do forno|uma avó a tricotar|o primeiro dia de escola
as castanhas assadas no inverno|um pôr do sol na praia
a neblina sobre o rio|as oliveiras centenárias|o som dos sinos da aldeia
uma tarde de domingo em família|as luzes de Natal na rua
a maré a subir|um banco de jardim vazio|as flores de laranjeira
o silêncio de uma biblioteca|as crianças a brincar na rua
uma trovoada ao longe|o musgo nas pedras do caminho
a geada nos campos|um comboio noturno|a fogueira de São João
as gaivotas no porto|um velho pescador|a sombra de uma figueira|os girassóis no Alentejo|um poço antigo
a cortiça dos sobreiros|um caracol depois da chuva
o luar no telhado|o primeiro café do dia|as redes de pesca ao sol
um cão à espera do dono|a janela aberta no verão
os pinheiros junto ao mar|a vinha em setembro|uma ponte de pedra
o nevoeiro da manhã|os pássaros no fio elétrico|a lareira acesa|as ondas na areia|um moinho de vento
a festa da aldeia|as abelhas no alecrim|o rio cheio depois da chuva|uma carta antiga|o relógio da torre
um jardim abandonado|as estrelas no campo|o canto do galo|uma chávena de chá quente|as nuvens sobre o mar
um caminho de terra|o trigo ao vento|um dia de mudança de casa
as mãos de um padeiro|a primeira chuva de outubro
os barcos rabelos|uma praça ao meio-dia|um guarda-chuva esquecido|a varanda da avó|as cegonhas no campanário
o eco num vale|uma tarde de calor|o lago gelado|um livro esquecido no comboio|a despedida no cais
o orvalho nas teias|um bairro antigo de Lisboa|as bicicletas na ciclovia|a feira popular|um pomar de macieiras
a cidade depois da meia-noite|o gato do vizinho
uma concha na areia|os telhados de Coimbra|uma tempestade de verão
o cheiro a terra molhada|as ruas estreitas de Alfama
a neve que derrete|o último dia de férias|as lanternas no rio
um abraço no aeroporto|a colheita da azeitona|o silêncio depois da neve|um mocho na noite|as searas douradas
o vento norte|um banho de mar em junho|os jacarandás em flor|o porto de Leixões|uma manhã de nevoeiro
um comboio a passar pela vinha|as estrelas cadentes de agosto
o sabor das cerejas|um pátio com laranjeiras|a luz de inverno
o cheiro a maresia|uma serenata em Coimbra|os campos de papoilas|um elétrico vazio à noite|a chegada do outono
um farol abandonado|as dunas ao vento|os figos maduros|uma rua em festa|a calçada portuguesa
um veleiro no horizonte|o canto dos grilos|a sesta no verão
a chuva nos vidros do autocarro|uma horta na cidade
as luzes do porto à noite|um gato preto na escada
o frio das manhãs de janeiro|o sol entre as nuvens|uma romaria no Minho
o sino da igreja ao meio-dia|as amendoeiras em flor|um rio a secar|a sombra do castelo|um postal de férias
as lavadeiras no rio|um ninho no beiral|a lenha a arder|um barco encalhado|a primeira estrela da noite
o cheiro a alfazema|uma ponte sobre o Tejo
um grilo na erva|a noite mais longa do ano|as marés vivas""".replace("\n", "|").split("|")
FRAMES = [
    "Escreva um haiku sobre {}",
    "Um haiku sobre {}, por favor",
    "Pode escrever um haiku sobre {}?",
    "Quero um haiku sobre {}",
]
# Lines that the Spanish counter (the pt pack borrows it) counts as 5 and 7 syllables.
FIVE = [
    "Chuva de verão",
    "Folhas no quintal",
    "Manhã de neblina",
    "Lua sobre o rio",
    "Vento de outono",
    "Praia sem ninguém",
    "Neve na serra",
    "Cheiro a pão quente",
    "Frio de janeiro",
    "Ondas na areia",
    "Silêncio na aldeia",
    "Velha oliveira",
    "Pássaros no fio",
    "Varanda vazia",
    "Roupa no varal",
    "Trovão ao longe",
    "Nuvens sobre o mar",
    "Janela aberta",
    "Ponte de pedra",
    "Vinha em setembro",
    "Bruma no vale",
]
SEVEN = [
    "no telhado de zinco",
    "o vento leva o outono",
    "a avó fecha a janela",
    "o rio canta entre as pedras",
    "a cidade ainda dorme",
    "um cão ladra na estrada",
    "o padeiro abre a porta",
    "a areia guarda os passos",
    "a maré leva as conchas",
    "um velho lê o jornal",
    "as folhas dançam no adro",
    "o gato dorme ao sol",
    "o mercado abre cedo",
    "a mãe estende a roupa",
    "a chuva molha o adro",
    "as gaivotas sobre o cais",
    "a velha conta as horas",
    "o sol aquece a pedra",
    "a lenha arde no fogão",
    "o pão coze no forno",
    "o rio leva as folhas",
    "o vento abre a janela",
    "as flores abrem de manhã",
    "o gato espreita o quintal",
    "o musgo cobre o muro",
    "a luz acende na rua",
    "a água corre no rego",
    "as castanhas estalam",
    "o avô dorme na cadeira",
    "as abelhas no alecrim",
    "a serra fica azul",
    "o mar apaga os passos",
    "o cais espera os barcos",
]
HAIKU = [f"{FIVE[i % 21]}\n{SEVEN[i % 33]}\n{FIVE[(i * 5 + 7) % 21]}" for i in range(66) if i % 21 != 14][:60]
PACK_YAML = """\
code: pt
name: Portuguese
native_name: Português
task: haiku
system_prompt: |
  És um poeta que escreve haikus em português.
  Um haiku tem três versos: o primeiro de cinco sílabas, o segundo de sete e o terceiro de cinco.
  Responde só com o haiku: sem título, sem explicações, sem mais nada.
user_template: "{prompt}"
annotation:
  dataset_title: "Haikus em português: é um bom haiku?"
  question: "É um bom haiku para este pedido?"
  labels: {good: "👍 Sim", bad: "👎 Não"}
  comment: "Comentário (opcional): o que funciona e o que não"
  prompt_title: "Pedido"
  completion_title: "Haiku"
  guidelines: |
    Verás um **pedido** e um **haiku** escrito por um modelo. Marca 👍 se é um bom haiku para esse
    pedido (três versos de 5, 7 e 5 sílabas, uma imagem concreta, em português natural) e 👎 se não é.
form: {lines: 3, pattern: [5, 7, 5], counter: es}
"""


class Models:
    """The model set's answers: `a` drafts (a mix), `b` repeats `a` word for word."""

    def __init__(self) -> None:
        self.prompts: dict[str, int] = {}

    def __call__(self, model: str, text: str) -> str:
        if text in TOPICS:  # draft-prompts: one request per topic
            i = TOPICS.index(text)
            prompt = FRAMES[i % len(FRAMES)].format(text)
            return {
                3: f"Write a haiku about {text}",
                6: f'Claro! Aqui está um pedido:\n\n"{prompt}"',
                8: "Claro, com todo o gosto! Diga-me se precisar de mais alguma coisa.",
            }.get(i % 12, prompt)
        i = self.prompts.setdefault(text, len(self.prompts))  # a request: answer with a haiku
        haiku = HAIKU[i % len(HAIKU)]
        return {
            2: "Noite de São João\n" + haiku.split("\n", 1)[1],  # a 6-syllable first line: form fail
            5: f"Aqui está o seu haiku:\n\n{haiku}\n\nEspero que goste!",
            7: "Lluvia de abril\nlos tejados del pueblo\ncantan despacio",
        }.get(i % 8, haiku)  # Spanish


def review(env: dict[str, str]) -> str:
    """The reviewers, through Argilla's API: accept most, edit 3, reject 4, leave 3 pending."""
    import argilla as rg

    from ktokit.annotate.credentials import argilla_target

    os.environ.update(env)
    target = argilla_target("pt", key="pt:review")
    client = target.client()
    dataset = client.datasets(name=target.dataset, workspace=target.workspace)
    records = sorted(dataset.records(), key=lambda r: (r.metadata["kind"], r.fields["draft"]))
    prompts = [r for r in records if r.metadata["kind"] == "prompt"]
    examples = [r for r in records if r.metadata["kind"] == "example"]
    polite = next(r for r in prompts if r.fields["draft"].endswith(", por favor"))
    prompts.remove(polite)
    edits = {
        prompts[0].id: prompts[0].fields["draft"].replace("Escreva", "Escreve"),  # the informal voice
        polite.id: polite.fields["draft"].replace(", por favor", ""),
        examples[0].id: examples[0].fields["draft"].rsplit("\n", 1)[0] + "\nSilêncio na aldeia",
    }
    rejected = {prompts[2].id, prompts[3].id, prompts[4].id, examples[1].id}
    pending = {prompts[5].id, prompts[6].id, examples[2].id}
    answered = []
    me = client.me.id
    for record in records:
        if record.id in pending:
            continue
        choice = "edit" if record.id in edits else "reject" if record.id in rejected else "accept"
        record.responses.add(rg.Response("decision", choice, user_id=me, status="submitted"))
        record.responses.add(
            rg.Response("edit", edits.get(record.id, record.fields["draft"]), user_id=me, status="submitted")
        )
        answered.append(record)
    dataset.records.log(answered)
    return (
        f"{len(answered)} drafts answered ({len(edits)} edited, {len(rejected)} rejected), "
        f"{len(pending)} left pending"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", help="work in this folder and keep it (default: a temporary one)")
    cli = parser.parse_args()
    work = Path(cli.keep or tempfile.mkdtemp(prefix="ktokit-afternoon-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "KTOKIT_LANGUAGES": str(work / "languages"),
        "KTOKIT_CONFIG_DIR": str(work / "config"),
        "HF_TOKEN": "",
        "PYTHONPATH": str(ROOT),
    }
    argilla = work / "argilla"

    def run(*args: str) -> None:
        script = args[0].endswith(".py")
        command = [sys.executable, *args] if script else [sys.executable, "-m", "ktokit", *args]
        shown = " ".join(Path(a).name if a.startswith("/") and a.endswith(".py") else a for a in args)
        print(f"\n$ python {'' if script else '-m ktokit '}{shown.replace(str(work) + '/', '')}", flush=True)
        start = time.monotonic()
        proc = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
        print(proc.stdout.rstrip())
        if proc.returncode not in (0, 1):
            print(proc.stderr.rstrip())
            raise SystemExit(f"exit status {proc.returncode}")
        print(f"[{time.monotonic() - start:.1f} s, exit {proc.returncode}]", flush=True)

    (work / "topics.txt").write_text("\n".join(TOPICS) + "\n", encoding="utf-8")
    with ScriptedOpenAI(script=Models()) as api:
        (work / "models.yaml").write_text(
            yaml.safe_dump(
                {
                    "backend": "openai",
                    "base_url": api.base_url,
                    "concurrency": 8,
                    "batch_size": 32,
                    "max_retries": 1,
                    "models": [{"model": "org/model-a", "name": "a"}, {"model": "org/model-b", "name": "b"}],
                }
            )
        )
        try:
            run("new-language", "pt", "--name", "Portuguese", "--native-name", "Português", "--counter", "es")
            (work / "languages" / "pt" / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
            print("\n(pack.yaml filled in by hand: system prompt, annotation texts)")
            run("draft-prompts", "--language", "pt", "--topics", "topics.txt", "--models", "models.yaml")
            run("draft-examples", "--language", "pt", "--models", "models.yaml")
            from ktokit.annotate.argilla_local import manager

            manager.up(
                argilla, port=manager.free_port(), say=lambda _: None
            )  # a port of its own, then as usual
            run("review-pack", "--language", "pt", "--local", "--argilla-dir", str(argilla))
            print(f"\n(reviewers in Argilla: {review(env)})")
            run("accept-pack", "--language", "pt")
            run("validate", "pt")
            run(
                str(ROOT / "preference_gen.py"),
                "--language",
                "pt",
                "--models",
                "models.yaml",
                "--sample",
                "8",
            )
        finally:
            subprocess.run(
                [sys.executable, "-m", "ktokit", "argilla", "--data-dir", str(argilla), "down"],
                env=env,
                capture_output=True,
            )
    if not cli.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
