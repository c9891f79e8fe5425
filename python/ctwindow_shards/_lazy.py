"""Classes that need torch, built on first use: importing the package never imports torch, and
each class, once built, is a module attribute under its own name, so it pickles (DataLoader
workers, torch.multiprocessing.spawn)."""


def lazy_classes(module_name, module_globals, factories):
    """A module-level __getattr__ building factories[name]() on first access."""

    def __getattr__(name):
        make = factories.get(name)
        if make is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        cls = make()
        cls.__module__, cls.__qualname__ = module_name, name
        module_globals[name] = cls
        return cls

    return __getattr__
