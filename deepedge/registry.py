"""Which family serves which task: the task name `model.json` records -> import strings.

Plain data and `importlib`, nothing else: the CLI, the demo, the exporter and the on-device
runtime look a task up here and import its code only when they use it, so `import deepedge`,
`deepedge info` and `deepedge.edge.load` never import TensorFlow.

Each entry names the family's interface (`deepedge.apps.family.Family`, Keras imported only
inside its methods) and the on-device runtime class (numpy and LiteRT only). Adding a family
is its own folder under `deepedge/apps/`, its runtime class under `deepedge/runtime/`, and one
line here (or a `register(...)` call from a plug-in).
"""

import importlib
import threading

from deepedge.errors import InvalidInputError, ModelFileError, PresetNotFoundError

TASKS = {
    "image_classification": ("deepedge.apps.image_recognition.family:ImageClassification",
                             "deepedge.runtime.image_classifier:EdgeImageClassifier"),
    "language_model": ("deepedge.apps.language_modelling.family:LanguageModelling",
                       "deepedge.runtime.language_model:EdgeLanguageModel"),
    "scene_labelling": ("deepedge.apps.scene_labelling.family:SceneLabelling",
                        "deepedge.runtime.scene_labeller:EdgeSceneLabeller"),
    "keyword_spotting": ("deepedge.apps.speech.keyword_family:KeywordSpotting",
                         "deepedge.runtime.keyword_spotter:EdgeKeywordSpotter"),
    "speech_recognition": ("deepedge.apps.speech.recognizer_family:SpeechRecognition",
                           "deepedge.runtime.speech_recognizer:EdgeSpeechRecognizer"),
    "translation": ("deepedge.apps.translation.family:Translation", "deepedge.runtime.translator:EdgeTranslator"),
    "captioning": ("deepedge.apps.captioning.family:Captioning", "deepedge.runtime.captioner:EdgeCaptioner"),
    "glimpse_classification": ("deepedge.apps.agents.glimpse_family:GlimpseClassification",
                               "deepedge.runtime.glimpse_agent:EdgeGlimpseAgent"),
    "q_learning": ("deepedge.apps.agents.dqn_family:QLearning", "deepedge.runtime.q_network:EdgeQNetwork"),
}

# A model deepedge did not build (`deepedge.export.export_model`): no family serves it, one
# generic runtime runs it.
GENERIC_TASK = "keras_model"
GENERIC_RUNTIME = "deepedge.runtime.keras_model:EdgeKerasModel"

_families = {}
_lock = threading.Lock()


def register(task_name, family, runtime):
    """Adds (or replaces) a task: `family` and `runtime` are `"module:attribute"` strings."""
    for value, what in ((family, "family"), (runtime, "runtime")):
        if not isinstance(value, str) or ":" not in value:
            raise InvalidInputError(f"`{what}` must be an import string 'package.module:Name'. Received: {value!r}")
    with _lock:
        TASKS[task_name] = (family, runtime)
        _families.pop(task_name, None)


def unregister(task_name):
    """Removes a task added with `register`."""
    with _lock:
        TASKS.pop(task_name, None)
        _families.pop(task_name, None)


def _import(target):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _entry(task_name):
    if task_name == GENERIC_TASK:
        raise ModelFileError(f"{GENERIC_TASK!r} models were exported from a Keras model deepedge did not build, so no "
                             "family serves them: load them with `deepedge.edge.load`, and export and measure them "
                             "again with `deepedge export MODEL.keras --calibration ... --evaluate ...`.")
    if task_name not in TASKS:
        raise ModelFileError(f"No family serves the task {task_name!r}; this deepedge knows {sorted(TASKS)}. "
                             "Upgrade deepedge, or register the family (`deepedge.registry.register`).")
    return TASKS[task_name]


def runtime_class(task_name):
    """The on-device runtime class of `task_name` (numpy and LiteRT only); for `GENERIC_TASK`,
    the runtime of any exported Keras model."""
    return _import(GENERIC_RUNTIME if task_name == GENERIC_TASK else _entry(task_name)[1])


def family(task_name):
    """The `Family` of `task_name`, created once."""
    with _lock:
        if task_name not in _families:
            _families[task_name] = _import(_entry(task_name)[0])()
        return _families[task_name]


def families():
    """Every registered family, in registry order."""
    return [family(task_name) for task_name in list(TASKS)]


def family_of_preset(name):
    """The family whose presets include `name` (trained or architecture)."""
    for candidate in families():
        if name in candidate.presets():
            return candidate
    known = sorted(p for f in families() for p in f.presets())
    raise PresetNotFoundError(f"No preset named {name!r}. Expected one of {known}.")


def family_of_keras_class(class_name):
    """The family whose Keras task class is called `class_name` (as a `.keras` file records it)."""
    for candidate in families():
        if class_name in candidate.keras_classes:
            return candidate
    raise ModelFileError(f"No deepedge family has a Keras task class {class_name!r}; known: "
                         f"{sorted(c for f in families() for c in f.keras_classes)}.")
