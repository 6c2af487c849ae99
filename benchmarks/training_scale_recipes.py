"""What each shipped recipe trains on, for `training_scale.py`: its data, model and input, as its
`train_preset` feeds `fit_resumable` (on fewer examples), and the deep Q-networks' play and replay.

Each `*_recipe(name, count)` returns `(recipe, build, feed)`: the recipe, `build() -> (model,
compile options)`, and `feed`, the keyword arguments of `fit_resumable` that make each epoch's
input (`train_images`, `train_labels`, `augmentation`, `epoch_data`, `epoch_dataset`, `batches`).
"""

import time

import numpy as np


def image_recipe(name, count):
    from deepedge.apps import ImageClassifier
    from deepedge.apps.image_recognition.presets import TRAINED
    from deepedge.data import load_fashion_mnist
    from deepedge.training import ImageAugmentation
    from deepedge.training.losses import SmoothedSparseCategoricalCrossentropy

    spec, recipe = TRAINED[name], TRAINED[name]["recipe"]
    train = load_fashion_mnist("train").take(count)

    def build():
        model = ImageClassifier.from_preset(spec["architecture"], class_names=train.class_names,
                                            image_shape=train.images.shape[1:])
        smoothing = recipe.get("label_smoothing")
        return model, {"loss": SmoothedSparseCategoricalCrossentropy(smoothing) if smoothing else "auto"}

    augmentation = ImageAugmentation(flip=recipe["flip"], max_shift=recipe["max_shift"])
    return recipe, build, {"train_images": train.images, "train_labels": train.labels, "augmentation": augmentation}


def language_recipe(name, count):
    from deepedge.apps.language_modelling.presets import TRAINED
    from deepedge.apps.language_modelling.recipes import build_model, build_tokenizer, sequence_windows
    from deepedge.data.text import load_austen

    spec, recipe = TRAINED[name], TRAINED[name]["recipe"]
    train = load_austen("train")
    tokenizer = build_tokenizer(spec["tokenizer"], train)
    ids = np.asarray(tokenizer.encode_paragraphs(train.paragraphs), np.int32)

    def build():
        return build_model(spec["architecture"], tokenizer), {}

    if "sequence_length" not in recipe:  # the NPLM: fixed contexts, shuffled each epoch
        x, y = build()[0].contexts(ids)
        return recipe, build, {"train_images": x[:count], "train_labels": y[:count]}
    length = recipe["sequence_length"]
    ids = ids[: count * length + 1]
    return recipe, build, {"train_images": None, "train_labels": np.zeros(count),
                           "epoch_data": lambda rng: sequence_windows(ids, length, rng)}


def scene_recipe(name, count):
    from deepedge.apps.scene_labelling.presets import TRAINED
    from deepedge.apps.scene_labelling.recipes import training_data
    from deepedge.apps.scene_labelling.scene_labeller import SceneLabeller
    from deepedge.training.losses import WeightedSparseCategoricalCrossentropy, balanced_class_weights

    spec, recipe = TRAINED[name], dict(TRAINED[name]["recipe"])
    size_x, size_y, epoch_data, epoch_dataset, validation = training_data(spec, recipe, limit=count)

    def build():
        model = SceneLabeller.from_preset(spec["architecture"], class_names=validation.class_names,
                                          palette=validation.palette, metric=spec["metric"])
        if not recipe.get("class_weight_power"):
            return model, {}
        sample = epoch_data(np.random.default_rng([recipe["seed"], 10 ** 6]))[1]
        weights = balanced_class_weights(sample, model.num_classes, recipe["class_weight_power"])
        return model, {"loss": WeightedSparseCategoricalCrossentropy(weights)}

    return recipe, build, {"train_images": size_x, "train_labels": size_y, "epoch_data": epoch_data,
                           "epoch_dataset": epoch_dataset}


def keyword_recipe(name, count):
    """The spotter's clips, rendered anew each epoch, from the cached utterances of 120 per keyword
    (the recipe's 400 and its neural voices cost the same per clip to render)."""
    from deepedge.apps.speech.keyword_spotter import KeywordSpotter
    from deepedge.apps.speech.presets import KWS_TRAINED
    from deepedge.apps.speech.recipes import keyword_epochs
    from deepedge.data.speech import KEYWORD_CLASSES, SpeechAugmentation, load_keywords

    spec, recipe = KWS_TRAINED[name], KWS_TRAINED[name]["recipe"]
    train = load_keywords("train", 120, seed=recipe["seed"]).take(count)
    augmentation = SpeechAugmentation(noise_probability=recipe["noise_probability"], snr_db=tuple(recipe["snr_db"]))

    def build():
        return KeywordSpotter.from_preset(spec["architecture"], class_names=KEYWORD_CLASSES), {}

    def epoch_data(rng):  # the clips as the recipe rendered them before it streamed them, for comparison
        clips = train.clips(rng, augmentation)
        order = rng.permutation(len(clips))
        return clips[order], train.labels[order]

    return recipe, build, {"train_images": None, "train_labels": train.labels, "epoch_data": epoch_data,
                           "epoch_dataset": keyword_epochs(train, augmentation)}


def recognizer_recipe(name, count):
    from deepedge.apps.speech.presets import ASR_ARCHITECTURES, ASR_TRAINED
    from deepedge.apps.speech.recipes import recognizer_epochs, trainable_sentences
    from deepedge.apps.speech.speech_recognizer import SpeechRecognizer
    from deepedge.data.speech import CHARACTERS, SAMPLE_RATE, load_sentences

    spec, recipe = ASR_TRAINED[name], ASR_TRAINED[name]["recipe"]
    train = load_sentences("train", count, seed=recipe["seed"])

    def build():
        return SpeechRecognizer(CHARACTERS, **ASR_ARCHITECTURES[spec["architecture"]]["config"]), {}

    model = build()[0]
    length = int(round(recipe["max_seconds"] * SAMPLE_RATE / model.chunk_samples)) * model.chunk_samples
    usable = trainable_sentences(train, model, recipe["max_seconds"])
    labels = model.labels([train.texts[i] for i in usable], max(len(train.texts[i]) for i in usable))
    return recipe, build, {"train_images": None, "train_labels": labels[:, 0],
                           "epoch_data": recognizer_epochs(train, usable, labels, length)}


def translator_recipe(name, count):
    from deepedge.apps.translation.presets import TRAINED
    from deepedge.apps.translation.recipes import build_tokenizers, fitting_pairs
    from deepedge.apps.translation.translator import Translator
    from deepedge.data.translation import load_parallel
    from deepedge.training.losses import SmoothedSparseCategoricalCrossentropy

    spec, recipe = TRAINED[name], TRAINED[name]["recipe"]
    train = load_parallel(spec["data"], "train")
    tokenizers = build_tokenizers(spec, train)

    def build():
        model = Translator.from_preset(spec["architecture"], source_tokenizer=tokenizers[0],
                                       target_tokenizer=tokenizers[1], max_source_length=spec["max_source_length"],
                                       max_target_length=spec["max_target_length"], **spec.get("config", {}))
        smoothing = recipe.get("label_smoothing")
        return model, {"loss": SmoothedSparseCategoricalCrossentropy(smoothing, from_logits=True)
                       if smoothing else "auto"}

    model = build()[0]
    x, y = model.teacher_forcing_data(*fitting_pairs(model, train.take(count)))
    return recipe, build, {"train_images": tuple(x), "train_labels": y, "batches": model.training_batches}


def captioner_recipe(name, count):
    """The captioner's own epochs; `captioner_encoder_recipe` measures the encoder's first stage."""
    from deepedge.apps.captioning.captioner import Captioner
    from deepedge.apps.captioning.presets import TRAINED
    from deepedge.apps.captioning.recipes import caption_epochs
    from deepedge.data.captions import load_captions
    from deepedge.tokenizers import WordTokenizer

    spec, recipe = TRAINED[name], TRAINED[name]["recipe"]
    train = load_captions("train", count)
    tokenizer = WordTokenizer.from_texts([c for refs in train.captions for c in refs])

    def build():
        return Captioner.from_preset(spec["architecture"], tokenizer=tokenizer, **spec.get("config", {})), {}

    model = build()[0]
    return recipe, build, {"train_images": None, "train_labels": np.zeros(count),
                           "epoch_data": caption_epochs(model, train), "batches": model.training_batches}


def captioner_encoder_recipe(name, count):
    """The first stage of the captioner's recipe: its encoder learns to read the scenes' object maps."""
    from deepedge.apps.captioning.captioner import Captioner
    from deepedge.apps.captioning.presets import TRAINED
    from deepedge.apps.captioning.recipes import reader_compile_options, reader_epochs, scene_reader
    from deepedge.data.captions import load_captions, recoloured_and_zoomed
    from deepedge.tokenizers import WordTokenizer

    name = name.removesuffix(":encoder")
    spec, recipe = TRAINED[name], TRAINED[name]["recipe"]
    train = load_captions("train", count)
    tokenizer = WordTokenizer.from_texts([c for refs in train.captions for c in refs])

    def build():
        captioner = Captioner.from_preset(spec["architecture"], tokenizer=tokenizer, **spec.get("config", {}))
        return scene_reader(captioner), reader_compile_options()

    captioner = Captioner.from_preset(spec["architecture"], tokenizer=tokenizer, **spec.get("config", {}))
    epoch_dataset, batches = reader_epochs(captioner, train)

    def epoch_data(rng):  # the images as the recipe drew them before it streamed them, for comparison
        images, maps = recoloured_and_zoomed(train, captioner.grid_shape, rng)
        order = rng.permutation(len(images))
        return (images[order],), maps[order]

    return ({**recipe, "epochs": recipe["encoder_epochs"]}, build,
            {"train_images": None, "train_labels": np.zeros(count), "epoch_data": epoch_data,
             "epoch_dataset": epoch_dataset, "batches": batches})


def glimpse_recipe(name, count):
    from deepedge.apps.agents.glimpse_agent import GlimpseAgent
    from deepedge.apps.agents.glimpse_presets import ARCHITECTURES, TRAINED
    from deepedge.apps.agents.glimpse_recipes import canvas_epochs
    from deepedge.data.glimpses import canvas_layout, load_objects

    spec, recipe = TRAINED[name], TRAINED[name]["recipe"]
    objects_name, size, distractors = canvas_layout(spec["data"])
    objects = load_objects(objects_name, "train").take(count)
    config = {**ARCHITECTURES[spec["architecture"]]["config"], **spec.get("config", {})}

    def build():
        model = GlimpseAgent(num_classes=len(objects.class_names), class_names=objects.class_names, name=name,
                             **config)
        model.build((None, size, size, 1))
        return model, {}

    return recipe, build, {"train_images": objects.images, "train_labels": objects.labels,
                           "epoch_data": canvas_epochs(objects, size, distractors)}


RECIPES = {"fashion_edgenet": image_recipe, "fashion_lenet5": image_recipe, "austen_lstm_word": language_recipe,
           "austen_nplm": language_recipe, "scenes_labeller": scene_recipe, "nuclei_labeller": scene_recipe,
           "kws_dscnn": keyword_recipe, "asr_ctc": recognizer_recipe, "de_en_attention": translator_recipe,
           "scenes_captioner": captioner_recipe, "scenes_captioner:encoder": captioner_encoder_recipe,
           "glimpse_cluttered": glimpse_recipe}


def dqn_rates(name, steps):
    """A deep Q-network's input against its learning, as `dqn_training.train` interleaves them.

    Per update, the input is `train_every` steps of the environment (with the replay buffer's and
    the frame stack's writes) and one replay sample; the network's work is the update
    (`DQNAgent.update`) and the `train_every` epsilon-greedy actions, each a forward pass of the
    Q-network on one state (at the recipe's final epsilon), which run where the network runs.
    Returns the milliseconds of each part and examples (sampled transitions) per second of the
    input and of the network's work."""
    from deepedge.apps.agents.dqn import DQNAgent
    from deepedge.apps.agents.dqn_presets import TRAINED
    from deepedge.apps.agents.environments import make_environment
    from deepedge.apps.agents.replay import FrameStack, ReplayBuffer

    spec, recipe = TRAINED[name], TRAINED[name]["recipe"]
    env = make_environment(spec["environment"], seed=recipe["seed"])
    space = env.observation_space
    agent = DQNAgent(space.shape, int(env.action_space.n), space.dtype.name, **spec["agent"])
    replay = ReplayBuffer(recipe["replay_capacity"], space.shape, space.dtype.name, agent.frame_stack)
    stack, rng = FrameStack(agent.frame_stack, space.shape, space.dtype.name), np.random.default_rng(0)

    def play(count):
        """Seconds of the environment's side and of acting, over `count` steps."""
        state, acting = None, 0.0
        started = time.perf_counter()
        for _ in range(count):
            if state is None:
                observation, _ = env.reset(seed=int(rng.integers(2 ** 31)))
                replay.start(observation)
                state = stack.reset(observation)
            before = time.perf_counter()
            action = agent.act(state, spec["agent"]["epsilon_end"], rng)
            acting += time.perf_counter() - before
            observation, reward, terminated, truncated, _ = env.step(action)
            replay.add(action, reward, terminated, observation)
            state = None if terminated or truncated else stack.push(observation)
        return time.perf_counter() - started - acting, acting

    batch, every = recipe["batch_size"], recipe["train_every"]
    play(max(2 * batch, steps // 4))  # fills the buffer; traces the acting function
    agent.update(replay.sample(batch, rng))  # traces the update
    environment_seconds, acting_seconds = (seconds / steps for seconds in play(steps))
    started = time.perf_counter()
    batches = [replay.sample(batch, rng) for _ in range(steps)]
    sample_seconds = (time.perf_counter() - started) / steps
    updates = max(8, steps // 4)
    started = time.perf_counter()
    for sampled in batches[:updates]:
        agent.update(sampled)
    update_seconds = (time.perf_counter() - started) / updates
    env.close()
    return {"recipe": name, "examples": updates * batch, "batch_size": batch, "precision": "float32",
            "train_every": every, "environment_ms": round(1e3 * environment_seconds, 3),
            "sample_ms": round(1e3 * sample_seconds, 3), "act_ms": round(1e3 * acting_seconds, 3),
            "update_ms": round(1e3 * update_seconds, 3),
            "pipeline_examples_per_s": round(batch / (every * environment_seconds + sample_seconds), 1),
            "step_examples_per_s": round(batch / (update_seconds + every * acting_seconds), 1),
            "update_examples_per_s": round(batch / update_seconds, 1)}
