"""Random run names in MLflow's style: <adjective>-<noun>-<number>."""
import secrets

_ADJECTIVES = (
    "abundant able amazing amusing angry bedecked big bold brawny bright calm capable carefree "
    "caring casual charming classy clean clumsy colorful crawling dapper debonair dashing delicate "
    "enchanting fearless gentle gifted glamorous grandiose gregarious handsome hilarious honorable "
    "illustrious incongruous indecisive industrious intelligent inquisitive invincible judicious "
    "kindly languid learned legendary likeable loud luminous luxuriant lyrical magnificent "
    "marvelous masked melodic merciful mercurial monumental mysterious nebulous nimble nosy "
    "omniscient orderly overjoyed peaceful painted persistent placid polite popular powerful "
    "puzzled rambunctious rare rebellious respected resilient righteous receptive redolent "
    "resilient rogue rumbling salty sassy secretive selective sedate serious shivering skillful "
    "sincere skittish silent smiling sneaky sophisticated spiffy stately suave stylish tasteful "
    "thoughtful thundering traveling treasured trusting unequaled upbeat unique unleashed "
    "useful upset valuable victorious welcoming whimsical wise worried youthful zealous"
).split()
_NOUNS = (
    "ant ape asp auk bass bat bear bee bird boar bug calf carp cat chimp cod colt conch cow crab "
    "crane croc crow cub deer doe dog dolphin donkey dove duck eel elk fawn finch fish flea fly "
    "foal fowl fox frog gnat gnu goat goose grouse grub gull hare hawk hen hog horse hound jay "
    "kit kite koi lamb lark loon lynx mare midge mink mole moose moth mouse mule newt owl ox panda "
    "penguin perch pig pug quail ram rat ray robin roo rook seal shad shark sheep shoat shrew "
    "shrike shrimp skink skunk sloth slug smelt snail snake snipe sow sponge squid squirrel stag "
    "steed stoat stork swan tern toad trout turtle vole wasp whale wolf worm wren yak zebra"
).split()


MAX_LENGTH = 20  # as MLflow's generator


def generate_run_name() -> str:
    while True:
        name = f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000)}"
        if len(name) <= MAX_LENGTH:
            return name
